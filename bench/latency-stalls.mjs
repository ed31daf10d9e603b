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
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, lowRateLoad, option, until, waitForPort, withTimeout } from './loopback.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(option('seconds', 20));
const rate = Number(option('rate', 5000));
const pairs = Number(option('pairs', 10));
const SLOW_MS = 3;

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
  const { sent, arrivals } = await lowRateLoad(port, { pairs, rate, seconds, prefix: 'stall' });
  broker.kill('SIGUSR2');
  let probe;
  await until(() => {
    try {
      probe = JSON.parse(readFileSync(probeOut, 'utf8'));
      return true;
    } catch {
      return false; // not written yet, or not completely
    }
  }, 5000, 'the probe output');

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
    if (process.argv.includes('--list')) {
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
