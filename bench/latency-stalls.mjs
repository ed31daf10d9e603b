// Where the slow 1% at a low rate comes from. Starts Midge (this build, --memory) with
// bench/stall-probe.mjs preloaded, which notes every time its event loop misses a 1 ms timer by
// more than 3 ms (and how much CPU Midge used meanwhile) and every garbage collection. Then
// sends PAIRS publisher/subscriber pairs at RATE msg/s in total, QoS 0, for SECONDS, and groups
// the messages slower than 3 ms into stalls (runs less than 5 ms apart). For each stall: was
// Midge's loop late then, and was it busy (CPU over 60% of the gap) or not running at all?
// Run (after npm run build): node bench/latency-stalls.mjs [--seconds 20] [--rate 5000] [--pairs 10] [--list]
// The broker runs on a free loopback port and is stopped by its PID.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PacketDecoder } from '../dist/protocol/decoder.js';
import { encodePacket } from '../dist/protocol/encoder.js';

const here = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const seconds = option('seconds', 20);
const rate = option('rate', 5000);
const pairs = option('pairs', 10);
const SLOW_MS = 3;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

/** A raw MQTT 3.1.1 connection; `onPacket` gets every packet after CONNACK. */
async function open(port, clientId, onPacket) {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  const decoder = new PacketDecoder({ protocolVersion: 4 });
  let connack;
  const connected = new Promise((resolve) => (connack = resolve));
  socket.on('data', (chunk) => decoder.decode(chunk, (p) => {
    if (p.type === 2) connack();
    else onPacket(p);
    return true;
  }));
  await withTimeout(new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 5000, 'connect');
  socket.write(encodePacket({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId }, 4));
  await withTimeout(connected, 5000, 'CONNACK');
  return socket;
}

async function waitForPort(port) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => connect({ port, host: '127.0.0.1' }).once('connect', function () { this.destroy(); resolve(true); }).once('error', () => resolve(false)));
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the broker did not start listening');
}

const dir = mkdtempSync(join(tmpdir(), 'midge-stalls-'));
const probeOut = join(dir, 'probe.json');
const port = await freePort();
const broker = spawn(process.execPath, ['--import', pathToFileURL(join(here, 'bench/stall-probe.mjs')).href, join(here, 'bin/midge.js'), '--port', String(port), '--host', '127.0.0.1', '--memory', '--log-level', 'warn'], {
  stdio: 'ignore',
  env: { ...process.env, STALL_PROBE_OUT: probeOut },
});
const exited = new Promise((resolve) => broker.once('exit', resolve));
try {
  await waitForPort(port);
  /** [absolute send time ms, latency ms] of every message received. */
  const arrivals = [];
  let subacks = 0;
  const subs = [];
  const pubs = [];
  for (let i = 0; i < pairs; i++) {
    const sub = await open(port, `stall-sub-${i}`, (p) => {
      if (p.type === 9) subacks++;
      if (p.type !== 3) return;
      const sentAt = p.payload.readDoubleLE(0);
      arrivals.push([performance.timeOrigin + sentAt, performance.now() - sentAt]);
    });
    sub.write(encodePacket({ type: 8, packetId: 1, subscriptions: [{ topicFilter: `stall/${i}`, qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }, 4));
    subs.push(sub);
    pubs.push(await open(port, `stall-pub-${i}`, () => {}));
  }
  await withTimeout((async () => { while (subacks < pairs) await new Promise((r) => setTimeout(r, 10)); })(), 5000, 'SUBACKs');
  const payload = Buffer.alloc(64);
  const t0 = performance.now();
  let sent = 0;
  // Paced by a 1 ms timer: each tick sends what is due by then, spread over the pairs.
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.floor(((performance.now() - t0) * rate) / 1000);
      while (sent < due) {
        payload.writeDoubleLE(performance.now(), 0);
        pubs[sent % pairs].write(encodePacket({ type: 3, topic: `stall/${sent % pairs}`, payload, qos: 0, retain: false, dup: false }, 4));
        sent++;
      }
      if (performance.now() - t0 < seconds * 1000) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await withTimeout((async () => { while (arrivals.length < sent) await new Promise((r) => setTimeout(r, 10)); })(), 5000, 'the last messages');
  for (const s of [...subs, ...pubs]) s.destroy();
  broker.kill('SIGUSR2');
  await withTimeout((async () => { for (;;) { try { return JSON.parse(readFileSync(probeOut, 'utf8')); } catch { await new Promise((r) => setTimeout(r, 20)); } } })(), 5000, 'the probe output');
  const probe = JSON.parse(readFileSync(probeOut, 'utf8'));

  const latencies = arrivals.map(([, l]) => l).sort((a, b) => a - b);
  const q = (f) => latencies[Math.floor(f * (latencies.length - 1))].toFixed(2);
  const stalls = [];
  for (const [t, l] of arrivals.filter(([, l]) => l > SLOW_MS).sort((a, b) => a[0] - b[0])) {
    const last = stalls.at(-1);
    if (last !== undefined && t - last.end < 5) {
      last.end = t;
      last.count++;
      last.max = Math.max(last.max, l);
    } else stalls.push({ start: t, end: t, count: 1, max: l });
  }
  let late = 0;
  let busy = 0;
  let nearGc = 0;
  for (const s of stalls) {
    const from = s.start - 2;
    const to = s.end + s.max + 2;
    const gaps = probe.gaps.filter((g) => g.at + g.ms >= from && g.at <= to);
    const gcs = probe.gcs.filter((g) => g.at + g.ms >= from - 20 && g.at <= to);
    if (gaps.length > 0) late++;
    if (gaps.some((g) => g.cpuMs > 0.6 * g.ms)) busy++;
    if (gcs.length > 0) nearGc++;
    if (args.includes('--list')) {
      console.log(`stall of ${s.count} messages, slowest ${s.max.toFixed(1)} ms; Midge's loop late: ${gaps.map((g) => `${g.ms.toFixed(1)} ms (CPU ${g.cpuMs.toFixed(1)})`).join(', ') || 'no'}; GC: ${gcs.map((g) => `${g.ms.toFixed(1)} ms`).join(', ') || 'no'}`);
    }
  }
  const slow = arrivals.filter(([, l]) => l > SLOW_MS).length;
  console.log(`${sent} sent, ${arrivals.length} received; latency p50 ${q(0.5)} p99 ${q(0.99)} max ${q(1)} ms; ${slow} over ${SLOW_MS} ms`);
  console.log(`${stalls.length} stalls: ${late} while Midge's loop was late (${busy} of them with Midge busy, ${late - busy} with Midge not running), ${stalls.length - late} with Midge's loop on time; ${nearGc} near a garbage collection`);
  console.log(`Midge over the run: ${probe.gaps.length} late ticks, ${probe.gcs.length} collections (longest ${Math.max(0, ...probe.gcs.map((g) => g.ms)).toFixed(1)} ms)`);
} finally {
  if (broker.exitCode === null) broker.kill('SIGTERM');
  await withTimeout(exited, 10_000, 'the broker to stop').catch(() => broker.kill('SIGKILL'));
  rmSync(dir, { recursive: true, force: true });
}
