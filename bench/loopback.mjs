// What the small bench scripts share (retained-window, latency-stalls, forward-floor, wake-trace,
// burst-latency, alloc-per-message, core-path): options, medians and quantiles, a free loopback
// port, timeouts, waiting for a broker to listen, raw MQTT 3.1.1 connections with the project's
// codec, a broker's CPU from /proc, a low-rate QoS 0 or 1 load that times each message, and the
// servers the low-rate comparisons run it against.
// Every wait is bounded; traffic goes to 127.0.0.1 only.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { PacketDecoder } from '../dist/protocol/decoder.js';
import { encodePacket } from '../dist/protocol/encoder.js';

/** The value after `--name` on the command line, or `fallback`. */
export function option(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

/** The middle value of `xs` (the upper one of the two middle values when there are evenly many). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The value at quantile `q` (0..1) of `sorted`, which is in ascending order. */
export const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once something accepts TCP connections on the port (at most 10 s). */
export function waitForPort(port) {
  return withTimeout((async () => {
    for (;;) {
      const ok = await new Promise((resolve) => connect({ port, host: '127.0.0.1' }).once('connect', function () { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
      if (ok) return;
      await pause(50);
    }
  })(), 10_000, 'the broker to listen');
}

/** Resolves when `done()` holds, checking every 10 ms, for at most `ms`. */
export function until(done, ms, what) {
  return withTimeout((async () => { while (!done()) await pause(10); })(), ms, what);
}

/** A raw MQTT 3.1.1 connection: sends packets, hands every read's packets to `onRead`. */
export async function open(port, clientId, onRead) {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  const decoder = new PacketDecoder({ protocolVersion: 4 });
  let connack;
  const connected = new Promise((resolve) => (connack = resolve));
  socket.on('data', (chunk) => {
    const packets = [];
    decoder.decode(chunk, (p) => void packets.push(p));
    if (packets[0]?.type === 2) connack();
    onRead(packets);
  });
  await withTimeout(new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 5000, 'connect');
  const send = (p) => socket.write(encodePacket(p, 4));
  send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId });
  await withTimeout(connected, 5000, 'CONNACK');
  return { socket, send };
}

/** User and system CPU ms of process `pid` so far (clock ticks of 10 ms). */
export function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

/**
 * `pairs` publisher/subscriber pairs on topics `{prefix}/{i}`; RATE messages per second in all,
 * at `qos` 0 (default) or 1 (subscribers acknowledge each message), for `seconds`, paced by a
 * 1 ms timer. Each payload carries its send time, the timer tick that sent it and its place among
 * that tick's messages. Returns the number sent; per message received, [send time in ms since
 * the epoch, latency in ms, pair, send time by performance.now(), tick, place in the tick];
 * `tickSizes`, how many messages each tick sent; and `monotonicMs`, what to add to a
 * performance.now() time for the system's CLOCK_MONOTONIC in ms (the clock `perf record -k mono`
 * stamps events with).
 */
export async function lowRateLoad(port, { pairs, rate, seconds, prefix, qos = 0 }) {
  const arrivals = [];
  let subacks = 0;
  const clients = [];
  const pubs = [];
  for (let i = 0; i < pairs; i++) {
    const sub = await open(port, `${prefix}-sub-${i}`, (packets) => {
      for (const p of packets) {
        if (p.type === 9) subacks++;
        if (p.type !== 3) continue;
        const sentAt = p.payload.readDoubleLE(0);
        arrivals.push([performance.timeOrigin + sentAt, performance.now() - sentAt, i, sentAt, p.payload.readUInt32LE(8), p.payload.readUInt32LE(12)]);
        if (p.qos === 1) sub.send({ type: 4, packetId: p.packetId });
      }
    });
    sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: `${prefix}/${i}`, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    const pub = await open(port, `${prefix}-pub-${i}`, () => {});
    clients.push(sub, pub);
    pubs.push(pub);
  }
  await until(() => subacks === pairs, 5000, 'SUBACKs');
  const payload = Buffer.alloc(64);
  const t0 = performance.now();
  let sent = 0;
  const tickSizes = [];
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.floor(((performance.now() - t0) * rate) / 1000);
      const ticks = tickSizes.push(Math.max(0, due - sent));
      for (let place = 0; sent < due; place++) {
        payload.writeDoubleLE(performance.now(), 0);
        payload.writeUInt32LE(ticks - 1, 8);
        payload.writeUInt32LE(place, 12);
        // Packet ids cycle far faster than 65,535 messages go unacknowledged at this rate.
        const packet = { type: 3, topic: `${prefix}/${sent % pairs}`, payload, qos, retain: false, dup: false };
        if (qos === 1) packet.packetId = (sent % 65535) + 1;
        pubs[sent % pairs].send(packet);
        sent++;
      }
      if (performance.now() - t0 < seconds * 1000) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await until(() => arrivals.length >= sent, 5000, 'the last messages');
  for (const c of clients) c.socket.destroy();
  // process.hrtime is CLOCK_MONOTONIC; read beside performance.now(), it gives the offset.
  const monotonicMs = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  return { sent, arrivals, tickSizes, monotonicMs };
}

/**
 * The servers of the low-rate comparisons (forward-floor.mjs, wake-trace.mjs, burst-latency.mjs),
 * by name: for a port, the file and arguments to start one. The floor (forward-floor.mjs --serve:
 * each PUBLISH's bytes passed on, nothing decoded), Midge (this build, --memory) and, when on
 * PATH, Mosquitto, with TCP_NODELAY like the other two so each sends every message at once (its
 * config in `dir`).
 */
function lowRateServers(dir) {
  const here = fileURLToPath(new URL('..', import.meta.url));
  const servers = {
    floor: (port) => [process.execPath, [join(here, 'bench/forward-floor.mjs'), '--serve', String(port)]],
    midge: (port) => [process.execPath, [join(here, 'bin/midge.js'), '--port', String(port), '--host', '127.0.0.1', '--memory', '--log-level', 'warn']],
  };
  let hasMosquitto = true;
  try {
    execFileSync('mosquitto', ['-h'], { stdio: 'ignore' });
  } catch (e) {
    hasMosquitto = e.status === 3; // `mosquitto -h` prints its usage and exits 3
  }
  if (hasMosquitto) {
    servers.mosquitto = (port) => {
      const conf = join(dir, `mosquitto-${port}.conf`);
      writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', 'log_dest stderr', 'log_type error', ''].join('\n'));
      return ['mosquitto', ['-c', conf]];
    };
  }
  return servers;
}

/**
 * Runs `rounds` interleaved rounds over the low-rate servers (lowRateServers), each started
 * fresh on a free port and stopped by its PID afterwards; `each({ round, name, pid, port, dir })`
 * does the round's work once the server listens (`dir`: a scratch directory for the whole run).
 * Returns the names of the servers that ran, in their order.
 */
export async function eachLowRateRound(rounds, each) {
  const dir = mkdtempSync(join(tmpdir(), 'midge-low-rate-'));
  try {
    const servers = lowRateServers(dir);
    for (let round = 1; round <= rounds; round++) {
      for (const [name, command] of Object.entries(servers)) {
        const port = await freePort();
        const [file, argv] = command(port);
        const child = spawn(file, argv, { stdio: 'ignore' });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        try {
          await waitForPort(port);
          await each({ round, name, pid: child.pid, port, dir });
        } finally {
          child.kill('SIGTERM');
          await withTimeout(exited, 10_000, `${name} to stop`).catch(() => child.kill('SIGKILL'));
        }
      }
    }
    return Object.keys(servers);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
