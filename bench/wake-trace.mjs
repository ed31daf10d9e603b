// Where a message's time goes at a low rate, from the kernel's scheduler: the same low-rate load
// as forward-floor.mjs (bench/loopback.mjs lowRateLoad) against the bare Node forwarder of
// forward-floor.mjs, Midge (this build, --memory) and Mosquitto (when on PATH, TCP_NODELAY like
// Midge), in interleaved rounds, each server started fresh. In the middle of each round,
// `perf record -k mono` takes the scheduler's tracepoints (wakeups of the server's main thread
// and of this process's, which sends and receives every message; every context switch) and the
// server's system calls for a few seconds. Then, per server, over all rounds:
//   - server wait to run: from its wakeup to when it runs (runnable, waiting for a CPU);
//   - server wake to write: from that wakeup to each write to a socket (its own work before a
//     message leaves, behind the other messages of the same wakeup);
//   - writes per wakeup, how often it was switched out while still runnable, how often it was
//     woken onto the CPU of the thread that woke it, and how busy each CPU was;
//   - the load's own wait to run;
//   - each traced message's latency split into: until the server is woken for it, its wait for a
//     CPU, its work until it writes that message, and from that write to the receipt;
//   - for the waits over 200 µs, what ran on the CPUs meanwhile.
// Tracing costs each system call, so it slows a server by how many it makes: compare the parts,
// not the servers' totals, under it (`strace -c` of both at 5,000 msg/s: Midge a read and a
// write per message and an epoll_pwait per wakeup; Mosquitto also an epoll_ctl or two per
// message, as it writes from the event loop once a socket is writable).
// Needs perf with the sched and raw_syscalls tracepoints (root, or perf_event_paranoid <= -1).
// Run (after npm run build): node bench/wake-trace.mjs [--rounds 3] [--seconds 6] [--trace 2] [--rate 5000] [--pairs 10]

import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eachLowRateRound, lowRateLoad, option } from './loopback.mjs';

const rounds = Number(option('rounds', 3));
const seconds = Number(option('seconds', 6));
const traceSeconds = Number(option('trace', 2));
const load = { seconds, rate: Number(option('rate', 5000)), pairs: Number(option('pairs', 10)), prefix: 'wake', qos: 0 };
if (traceSeconds + 2 > seconds) throw new Error('--trace must leave a second of load on either side: at most --seconds minus 2');

/** x86-64 system call numbers: writes to a socket, and the event loop's waits. */
const WRITES = new Set([1, 20, 44, 46]); // write, writev, sendto, sendmsg
const WAITS = new Set([7, 232, 281, 441]); // poll, epoll_wait, epoll_pwait, epoll_pwait2

function hasPerf() {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `perf record` of the wakeups of `pids`, every context switch (to see what ran while they
 * waited) and the system calls of `server`.
 */
function startPerf(file, server, pids) {
  const pidFilter = pids.map((p) => `pid == ${p}`).join(' || ');
  const args = [
    'record', '-q', '-a', '-k', 'mono', '-o', file,
    '-e', 'sched:sched_wakeup', '--filter', pidFilter,
    '-e', 'sched:sched_switch',
    '-e', 'raw_syscalls:sys_enter', '--filter', `common_pid == ${server}`,
    '--', 'sleep', String(traceSeconds),
  ];
  const child = spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`perf record failed (${code}): ${stderr.slice(-500)}`)))));
}

/** The events of one trace, in time order: [seconds, kind, fields]. */
function readTrace(file) {
  const text = execFileSync('perf', ['script', '-i', file, '--ns', '-F', 'tid,cpu,time,event,trace'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  const events = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$/.exec(line);
    if (m === null) continue;
    events.push({ tid: Number(m[1]), cpu: Number(m[2]), t: Number(m[3]), event: m[4].replace(/^.*:/, '').replace(/:$/, ''), trace: m[5] });
  }
  return events;
}

/** Waits of the server longer than this are looked into: what ran on the CPUs meanwhile. */
const LONG_WAIT = 200e-6;

/**
 * What one trace says about `server` (its main thread) and `self` (this process's main thread).
 * `tids` names the threads of both processes, to tell what ran while the server waited.
 */
function analyse(events, server, self, tids) {
  const out = { wait: [], toWrite: [], writesPerWake: [], preempted: 0, wakes: 0, selfWait: [], longWaits: 0, during: new Map(), onWakerCpu: 0, woken: 0, busy: new Map(), span: 0 };
  const woken = new Map();
  let serverWake = undefined;
  let writes = 0;
  /** Per CPU, what runs there since when; and the intervals that have ended. */
  const running = new Map();
  const intervals = [];
  const label = (pid, comm) => {
    if (pid === 0) return 'idle';
    if (pid === server) return 'server: main thread';
    if (pid === self) return 'load: main thread';
    const owner = tids.get(pid);
    return owner !== undefined ? `${owner}: ${comm}` : `other: ${comm}`;
  };
  const longWaits = [];
  for (const e of events) {
    if (e.event === 'sched_wakeup') {
      const pid = Number(/\bpid=(\d+)/.exec(e.trace)?.[1]);
      if (!woken.has(pid)) woken.set(pid, e.t);
      if (pid === server) {
        // Placed on the CPU of whoever woke it (a socket's wakeup is a "sync" one), or elsewhere.
        out.woken++;
        if (Number(/target_cpu=(\d+)/.exec(e.trace)?.[1]) === e.cpu) out.onWakerCpu++;
      }
    } else if (e.event === 'sched_switch') {
      const prev = Number(/prev_pid=(\d+)/.exec(e.trace)?.[1]);
      const next = Number(/next_pid=(\d+)/.exec(e.trace)?.[1]);
      const nextComm = /next_comm=(.*?) next_pid=/.exec(e.trace)?.[1] ?? '?';
      const prevState = /prev_state=(\S+)/.exec(e.trace)?.[1] ?? '';
      const was = running.get(e.cpu);
      if (was !== undefined) intervals.push({ ...was, end: e.t });
      running.set(e.cpu, { cpu: e.cpu, label: label(next, nextComm), start: e.t });
      if (prev === server && prevState.startsWith('R')) out.preempted++;
      const at = woken.get(next);
      if (at !== undefined) {
        woken.delete(next);
        if (next === server) {
          out.wait.push(e.t - at);
          if (e.t - at > LONG_WAIT) longWaits.push([at, e.t]);
          if (serverWake !== undefined) out.writesPerWake.push(writes);
          serverWake = at;
          writes = 0;
          out.wakes++;
        } else if (next === self) {
          out.selfWait.push(e.t - at);
        }
      }
    } else if (e.event === 'sys_enter' && e.tid === server) {
      const nr = Number(/NR (\d+)/.exec(e.trace)?.[1]);
      if (WRITES.has(nr) && serverWake !== undefined) {
        out.toWrite.push(e.t - serverWake);
        writes++;
      } else if (WAITS.has(nr) && serverWake !== undefined) {
        // Back in the event loop's wait: what comes next belongs to the next wakeup.
        out.writesPerWake.push(writes);
        serverWake = undefined;
        writes = 0;
      }
    }
  }
  // How busy each CPU was over the trace.
  if (events.length > 0) out.span = events[events.length - 1].t - events[0].t;
  for (const iv of intervals) if (iv.label !== 'idle') out.busy.set(iv.cpu, (out.busy.get(iv.cpu) ?? 0) + iv.end - iv.start);
  // CPU time by what ran, over the server's long waits (both CPUs: up to twice the wait).
  out.longWaits = longWaits.length;
  for (const [from, to] of longWaits) {
    for (const iv of intervals) {
      const overlap = Math.min(to, iv.end) - Math.max(from, iv.start);
      if (overlap > 0) out.during.set(iv.label, (out.during.get(iv.label) ?? 0) + overlap);
    }
  }
  return out;
}

/**
 * Splits each traced message's latency (send to receipt, as the load measured it) into: until
 * the server is woken for it (0 when it is already awake), the server's wait for a CPU, the
 * server's work until it writes the message (with the messages ahead of it in the same wakeup),
 * and from that write to the receipt (kernel, the load's wakeup and its own work). A message's
 * write is the first write after its send to its subscriber's socket; which socket is whose is
 * found from which writes fall inside which pair's messages.
 */
function attribute(events, server, arrivals, monotonicMs) {
  const writes = [];
  const wakes = [];
  const runs = [];
  for (const e of events) {
    if (e.event === 'sys_enter' && e.tid === server) {
      const m = /NR (\d+) \(([0-9a-f]+)/.exec(e.trace);
      if (m !== null && WRITES.has(Number(m[1]))) writes.push({ t: e.t, fd: parseInt(m[2], 16) });
    } else if (e.event === 'sched_wakeup' && Number(/\bpid=(\d+)/.exec(e.trace)?.[1]) === server) {
      wakes.push(e.t);
    } else if (e.event === 'sched_switch' && Number(/next_pid=(\d+)/.exec(e.trace)?.[1]) === server) {
      runs.push(e.t);
    }
  }
  if (events.length === 0 || writes.length === 0) return [];
  const from = events[0].t + 0.01;
  const to = events[events.length - 1].t - 0.01;
  const messages = arrivals
    .map(([, latency, pair, sentAt]) => ({ pair, s: (sentAt + monotonicMs) / 1000, r: (sentAt + latency + monotonicMs) / 1000 }))
    .filter((m) => m.s >= from && m.r <= to);
  // Which pair each socket serves: the pair most of its writes fall inside the messages of.
  const first = (list, t) => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid].t ?? list[mid]) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const score = new Map();
  for (const m of messages) {
    for (let i = first(writes, m.s); i < writes.length && writes[i].t <= m.r; i++) {
      const key = `${writes[i].fd}/${m.pair}`;
      score.set(key, (score.get(key) ?? 0) + 1);
    }
  }
  const pairOf = new Map();
  const best = new Map();
  for (const [key, n] of score) {
    const [fd, pair] = key.split('/').map(Number);
    if (n > (best.get(fd) ?? 0)) {
      best.set(fd, n);
      pairOf.set(fd, pair);
    }
  }
  const out = [];
  for (const m of messages) {
    let w;
    for (let i = first(writes, m.s); i < writes.length && writes[i].t <= m.r; i++) {
      if (pairOf.get(writes[i].fd) === m.pair) {
        w = writes[i].t;
        break;
      }
    }
    if (w === undefined) continue;
    const wake = wakes[first(wakes, w) - 1] ?? -Infinity;
    const run = runs[first(runs, w) - 1] ?? -Infinity;
    out.push({
      total: m.r - m.s,
      toServer: Math.max(0, wake - m.s),
      serverWait: Math.max(0, run - Math.max(wake, m.s)),
      serverWork: w - Math.max(m.s, run),
      back: m.r - w,
    });
  }
  return out;
}

/** Thread id to 'server' or 'load', for the threads of both processes. */
function threadsOf(server, self) {
  const tids = new Map();
  for (const [pid, owner] of [[server, 'server'], [self, 'load']]) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) tids.set(Number(tid), owner);
  }
  return tids;
}

const quantile = (sorted, q) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]);
const us = (s) => (s * 1e6).toFixed(0).padStart(5);
function row(name, what, values, scale = us) {
  const sorted = [...values].sort((a, b) => a - b);
  const cells = [0.5, 0.9, 0.95, 0.99, 0.999].map((q) => scale(quantile(sorted, q)));
  console.log(`${name.padEnd(9)} ${what.padEnd(22)} ${cells.join(' ')}   (${sorted.length})`);
}

/** The parts of the traced messages' latency: their means over bands of the total's quantiles. */
function printParts(name, parts) {
  if (parts.length === 0) return;
  const sorted = [...parts].sort((a, b) => a.total - b.total);
  const keys = ['toServer', 'serverWait', 'serverWork', 'back'];
  const mean = (list, k) => list.reduce((sum, p) => sum + p[k], 0) / list.length;
  const band = (a, b) => sorted.slice(Math.floor(a * sorted.length), Math.ceil(b * sorted.length));
  const show = (list) => ['total', ...keys].map((k) => `${k} ${us(mean(list, k)).trim()}`).join(', ');
  console.log(`${name.padEnd(9)} ${parts.length} messages traced; mean µs of the messages from p45 to p55 of the total: ${show(band(0.45, 0.55))}`);
  console.log(`${name.padEnd(9)} from p90 to p95: ${show(band(0.9, 0.95))}`);
  // The band that sets the p99, without the few stalls of a millisecond or more beyond it.
  console.log(`${name.padEnd(9)} from p98 to p99.5: ${show(band(0.98, 0.995))}`);
}

async function main() {
  if (!hasPerf()) throw new Error('perf is not on PATH');
  const results = {};
  await eachLowRateRound(rounds, async ({ round, name, pid, port, dir }) => {
    const tids = threadsOf(pid, process.pid);
    const traceFile = join(dir, `${name}-${round}.data`);
    let traced;
    const timer = setTimeout(() => (traced = startPerf(traceFile, pid, [pid, process.pid])), Math.max(1000, ((seconds - traceSeconds) / 2) * 1000));
    const { sent, arrivals, monotonicMs } = await lowRateLoad(port, load);
    clearTimeout(timer);
    if (traced === undefined) throw new Error('the load ended before the trace started');
    await traced;
    const events = readTrace(traceFile);
    const r = analyse(events, pid, process.pid, tids);
    const parts = attribute(events, pid, arrivals, monotonicMs);
    const sum = (results[name] ??= { wait: [], toWrite: [], writesPerWake: [], selfWait: [], preempted: 0, wakes: 0, latency: [], longWaits: 0, during: new Map(), parts: [], woken: 0, onWakerCpu: 0, busy: new Map(), span: 0 });
    for (const k of ['wait', 'toWrite', 'writesPerWake', 'selfWait']) for (const v of r[k]) sum[k].push(v);
    for (const k of ['preempted', 'longWaits', 'woken', 'onWakerCpu', 'span', 'wakes']) sum[k] += r[k];
    for (const [cpu, t] of r.busy) sum.busy.set(cpu, (sum.busy.get(cpu) ?? 0) + t);
    for (const [what, t] of r.during) sum.during.set(what, (sum.during.get(what) ?? 0) + t);
    for (const [, l] of arrivals) sum.latency.push(l / 1000);
    for (const part of parts) sum.parts.push(part);
    const p99 = quantile(arrivals.map(([, l]) => l).sort((a, b) => a - b), 0.99);
    console.log(`round ${round} ${name.padEnd(9)} ${sent} msgs, p99 ${p99.toFixed(2)} ms; traced ${r.wakes} wakeups, ${r.toWrite.length} writes, ${r.preempted} switched out while runnable`);
  });
  console.log(`\nµs, over all rounds      p50   p90   p95   p99 p99.9   (count)`);
  for (const [name, r] of Object.entries(results)) {
    row(name, 'end-to-end latency', r.latency);
    row(name, 'server wait to run', r.wait);
    row(name, 'server wake to write', r.toWrite);
    row(name, 'load wait to run', r.selfWait);
    row(name, 'writes per wakeup', r.writesPerWake, (v) => String(v).padStart(5));
    console.log(`${name.padEnd(9)} switched out while runnable: ${r.preempted} times in ${r.wakes} wakeups`);
    const busy = [...r.busy].sort((a, b) => a[0] - b[0]).map(([cpu, t]) => `CPU ${cpu} ${((t / r.span) * 100).toFixed(0)}%`);
    console.log(`${name.padEnd(9)} woken on the waker's CPU: ${r.onWakerCpu} of ${r.woken}; busy (anything but idle): ${busy.join(', ')}`);
    const top = [...r.during].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([what, t]) => `${what} ${(t * 1e3).toFixed(1)} ms`);
    printParts(name, r.parts);
    console.log(`${name.padEnd(9)} ${r.longWaits} waits over ${LONG_WAIT * 1e6} µs; what ran on the CPUs meanwhile: ${top.join(', ')}`);
  }
}

await main();
