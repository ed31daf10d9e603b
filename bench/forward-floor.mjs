// How much of a broker's CPU at a low rate is its own work, and how much the cost of being woken
// for each message: the same low-rate load (bench/loopback.mjs lowRateLoad), QoS 0 or 1, against
//   - floor: about the least a Node server can do for it, on the bare TCP handles Midge uses
//     (src/transport/tcp-handle.ts): CONNACK, SUBACK, and each PUBLISH's bytes passed on as
//     they came to the subscriber of its topic; no decoding, routing or encoding. At QoS 1 it
//     also answers each PUBLISH with a PUBACK and reads (and ignores) the subscribers' PUBACKs;
//   - midge: this build, --memory;
//   - mosquitto, when on PATH, with TCP_NODELAY like the other two (set_tcp_nodelay true), so
//     each sends every message at once;
// in interleaved rounds, each server started fresh. Prints user and system CPU per message.
// Run (after npm run build): node bench/forward-floor.mjs [--rounds 3] [--seconds 6] [--rate 5000] [--pairs 10] [--qos 0|1]

import { cpuMs, eachLowRateRound, lowRateLoad, median, option } from './loopback.mjs';

if (process.argv[2] === '--serve') serveFloor(Number(process.argv[3]));
else await compare();

/** The floor server (run in its own process). */
function serveFloor(port) {
  const { TCP, constants } = process.binding('tcp_wrap');
  const { WriteWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = process.binding('stream_wrap');
  const readBuffer = new Uint8Array(65536);
  /** Subscriber handle by topic filter (the load subscribes to exact topics). */
  const subscribers = new Map();
  // As in Midge (tcp-handle.ts), a request object that a write finished at once did not bind
  // serves the next write.
  let spare;
  const write = (handle, bytes) => {
    const req = spare ?? new WriteWrap();
    spare = undefined;
    handle.writeBuffer(req, bytes);
    if (streamBaseState[kLastWriteWasAsync] === 0) {
      spare = req;
      return;
    }
    req.handle = handle;
    req.oncomplete = () => {};
    req.buffer = bytes;
  };
  const server = new TCP(constants.SERVER);
  if (server.bind('127.0.0.1', port) !== 0) throw new Error(`cannot bind 127.0.0.1:${port}`);
  server.onconnection = (status, client) => {
    if (status !== 0) return;
    let held = Buffer.alloc(0);
    client.onread = function () {
      const n = streamBaseState[kReadBytesOrError];
      if (n <= 0) {
        client.close(() => {});
        return;
      }
      // Whole packets only; a packet cut between reads waits for the rest.
      const input = held.length > 0 ? Buffer.concat([held, Buffer.from(readBuffer.subarray(0, n))]) : Buffer.from(readBuffer.buffer, 0, n);
      let at = 0;
      while (at + 2 <= input.length) {
        let length = 0;
        let shift = 0;
        let i = at + 1;
        for (; i < input.length && i < at + 5; i++) {
          length += (input[i] & 127) << shift;
          shift += 7;
          if ((input[i] & 128) === 0) break;
        }
        const body = i + 1;
        if (i >= input.length || body + length > input.length) break;
        const type = input[at] >> 4;
        if (type === 1) write(client, Buffer.from([0x20, 2, 0, 0]));
        else if (type === 8) {
          const filter = input.toString('latin1', body + 4, body + 4 + input.readUInt16BE(body + 2));
          subscribers.set(filter, client);
          // Granted: the QoS asked for (the options byte after the filter).
          write(client, Buffer.from([0x90, 3, input[body], input[body + 1], input[body + 4 + filter.length] & 3]));
        } else if (type === 3) {
          const topicEnd = body + 2 + input.readUInt16BE(body);
          const topic = input.toString('latin1', body + 2, topicEnd);
          const subscriber = subscribers.get(topic);
          if (subscriber !== undefined) write(subscriber, Buffer.from(input.subarray(at, body + length)));
          // QoS 1: PUBACK with the publisher's packet id, which the copy passed on also keeps.
          if ((input[at] & 6) === 2) write(client, Buffer.from([0x40, 2, input[topicEnd], input[topicEnd + 1]]));
        }
        at = body + length;
      }
      held = Buffer.from(input.subarray(at));
    };
    client.useUserBuffer(readBuffer);
    client.setNoDelay(true);
    client.readStart();
  };
  if (server.listen(511) !== 0) throw new Error('listen failed');
}

async function compare() {
  const rounds = Number(option('rounds', 3));
  const qos = Number(option('qos', 0));
  if (qos !== 0 && qos !== 1) throw new Error('--qos is 0 or 1');
  const load = { seconds: Number(option('seconds', 6)), rate: Number(option('rate', 5000)), pairs: Number(option('pairs', 10)), prefix: 'floor', qos };
  const results = {};
  /** Every message's latency, all rounds together, by server. */
  const pooled = {};
  await eachLowRateRound(rounds, async ({ round, name, pid, port }) => {
    const before = cpuMs(pid);
    const { sent, arrivals } = await lowRateLoad(port, load);
    const after = cpuMs(pid);
    const latencies = arrivals.map(([, l]) => l).sort((a, b) => a - b);
    const r = {
      userUs: ((after.user - before.user) * 1000) / sent,
      systemUs: ((after.system - before.system) * 1000) / sent,
      p99: latencies[Math.floor(0.99 * (latencies.length - 1))],
    };
    (results[name] ??= []).push(r);
    for (const l of latencies) (pooled[name] ??= []).push(l);
    console.log(`round ${round} ${name.padEnd(9)} ${sent} msgs: CPU per message ${(r.userUs + r.systemUs).toFixed(1)} µs (user ${r.userUs.toFixed(1)}, system ${r.systemUs.toFixed(1)}); p99 ${r.p99.toFixed(2)} ms`);
  });
  for (const [name, list] of Object.entries(results)) {
    const user = median(list.map((r) => r.userUs));
    const system = median(list.map((r) => r.systemUs));
    const all = pooled[name].sort((a, b) => a - b);
    // Round by round against Mosquitto: one round's p99 rests on a few stalls (bench/README.md).
    const vsMosquitto = name !== 'mosquitto' && results.mosquitto !== undefined
      ? `; at most Mosquitto's in ${list.filter((r, i) => r.p99 <= results.mosquitto[i].p99).length}/${list.length} rounds`
      : '';
    console.log(`median ${name.padEnd(9)} CPU per message: user ${user.toFixed(1)} µs, system ${system.toFixed(1)} µs; p99 ${median(list.map((r) => r.p99)).toFixed(2)} ms; all rounds' messages together p99 ${all[Math.floor(0.99 * (all.length - 1))].toFixed(2)} ms${vsMosquitto}`);
  }
}
