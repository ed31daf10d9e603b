// The first delivery of N retained QoS 1 messages from a fresh broker to a subscriber that
// acknowledges each read before the next: elapsed time, broker CPU, and how the PUBLISH packets
// came in reads (with an in-flight window of W, a broker that sends its window as one block
// shows N/W reads of W). Each run starts its own broker process on a free loopback port and
// stops it by PID. With --baseline DIR, runs alternate between this build and the one in DIR.
// Run: node bench/retained-window.mjs [--runs 6] [--retained 50000] [--max-inflight 100] [--baseline DIR]
// (after npm run build; DIR is another checkout with its own dist/). --max-inflight W sets the
// window the retained messages go out with: --max-inflight-retained too, for a build that has it.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { encodePacket } from '../dist/protocol/encoder.js';
import { cpuMs, freePort, median, open, option, waitForPort, withTimeout } from './loopback.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(option('runs', '6'));
const retained = Number(option('retained', '50000'));
const maxInflight = option('max-inflight', '100');
const baseline = option('baseline', undefined);
const builds = baseline === undefined ? [['this', here]] : [['this', here], ['baseline', baseline]];
const cpuTotal = (pid) => {
  const { user, system } = cpuMs(pid);
  return user + system;
};

async function once(dir) {
  const port = await freePort();
  const windows = ['--max-inflight', maxInflight];
  if (readFileSync(join(dir, 'dist/config/flags.js'), 'utf8').includes('--max-inflight-retained')) windows.push('--max-inflight-retained', maxInflight);
  const broker = spawn(process.execPath, [join(dir, 'bin/midge.js'), '--port', String(port), '--host', '127.0.0.1', '--memory', ...windows, '--log-level', 'warn'], { stdio: 'ignore' });
  try {
    await waitForPort(port);
    // Load: every retained message at QoS 1, then wait for the last PUBACK.
    let acked = 0;
    let loaded;
    const allAcked = new Promise((resolve) => (loaded = resolve));
    const pub = await open(port, 'rw-loader', (packets) => {
      for (const p of packets) if (p.type === 4 && ++acked === retained) loaded();
    });
    const payload = Buffer.alloc(64, 120);
    for (let i = 0; i < retained; i++) {
      pub.send({ type: 3, topic: `bench/ret/${i >>> 10}/${i & 1023}`, payload, qos: 1, packetId: (i % 65535) + 1, retain: true, dup: false });
    }
    await withTimeout(allAcked, 60_000, 'the retained messages to be stored');
    pub.socket.destroy();
    // Deliver: one subscriber of '#', acknowledging each read before reading on.
    let received = 0;
    let reads = 0;
    let largest = 0;
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const sub = await open(port, 'rw-sub', (packets) => {
      const ids = packets.filter((p) => p.type === 3).map((p) => p.packetId);
      if (ids.length === 0) return;
      reads++;
      largest = Math.max(largest, ids.length);
      received += ids.length;
      sub.socket.write(Buffer.concat(ids.map((packetId) => encodePacket({ type: 4, packetId, reasonCode: 0 }, 4))));
      if (received >= retained) done();
    });
    const cpu0 = cpuTotal(broker.pid);
    const t0 = performance.now();
    sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'bench/ret/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    await withTimeout(finished, 60_000, 'the retained messages to arrive');
    const ms = performance.now() - t0;
    const cpu = cpuTotal(broker.pid) - cpu0;
    sub.socket.destroy();
    return { ms, cpu, reads, largest };
  } finally {
    broker.kill('SIGTERM');
  }
}

const results = new Map(builds.map(([name]) => [name, []]));
for (let r = 0; r < runs; r++) {
  for (const [name, dir] of builds) {
    const res = await once(dir);
    results.get(name).push(res);
    console.log(`${name.padEnd(8)} run ${r + 1}: ${retained} in ${res.ms.toFixed(0)} ms, broker CPU ${res.cpu} ms, ${res.reads} reads (largest ${res.largest} PUBLISH)`);
  }
}
for (const [name, list] of results) {
  console.log(`${name.padEnd(8)} median: ${median(list.map((x) => x.ms)).toFixed(0)} ms, broker CPU ${median(list.map((x) => x.cpu))} ms, ${median(list.map((x) => x.reads))} reads`);
}
