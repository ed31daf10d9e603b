// Why CPU saved per message at a low rate shows in the median but hardly in the p99: the same
// low-rate load as forward-floor.mjs (bench/loopback.mjs lowRateLoad: a 1 ms timer, each tick
// sending the messages due since the last, about five to eight at 5,000 msg/s) against the bare
// Node forwarder of forward-floor.mjs, Midge (this build, --memory) and Mosquitto (when on PATH),
// in interleaved rounds, each server started fresh. Leaving out the first `--settle` seconds (the
// JIT's warm-up), per server:
//   - CPU per message of the server's main thread and of its other threads (V8's helpers), and how
//     often the main thread was switched out while still runnable, from /proc/PID/task/*/schedstat
//     and status: the work that stands between a message's arrival and its write;
//   - latency p50, p90, p99 and p99.9 over every round's messages together, and per round in how
//     many rounds the p99 was at most Mosquitto's;
//   - for the commonest tick sizes, the median and p99 latency of the tick's first and last
//     message. On one CPU the load and the server take turns (bench/wake-trace.mjs), so a tick's
//     messages arrive together once the server has handled them all; the last message's latency
//     over the first's grows with what the server spends per message, and its p99 with what it
//     spends when its memory is out of the cache (the slowest ticks).
// Run (after npm run build): node bench/burst-latency.mjs [--rounds 4] [--seconds 6] [--settle 1.5] [--rate 5000] [--pairs 10] [--qos 0|1]

import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { eachLowRateRound, lowRateLoad, median, option, quantile } from './loopback.mjs';

const rounds = Number(option('rounds', 4));
const seconds = Number(option('seconds', 6));
const settle = Number(option('settle', 1.5));
const load = { seconds, rate: Number(option('rate', 5000)), pairs: Number(option('pairs', 10)), prefix: 'burst', qos: Number(option('qos', 0)) };
if (settle + 2 > seconds) throw new Error('--settle must leave at least 2 s of the load: at most --seconds minus 2');

/** Per thread of `pid`: ns on a CPU, and the main thread's involuntary context switches. */
function threads(pid) {
  let main = 0;
  let others = 0;
  let preempted = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const run = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (tid === String(pid)) {
        main = run;
        preempted = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))[1]);
      } else others += run;
    } catch {
      continue; // a thread that ended meanwhile
    }
  }
  return { main, others, preempted };
}

/** Per server: each round's figures, every message's latency (µs), and latencies by tick size and place. */
const results = new Map();
const names = await eachLowRateRound(rounds, async ({ round, name, pid, port }) => {
  let before;
  const t0 = performance.now();
  const settled = setTimeout(() => (before = threads(pid)), settle * 1000);
  const { sent, arrivals, tickSizes } = await lowRateLoad(port, load);
  clearTimeout(settled);
  const after = threads(pid);
  if (before === undefined) throw new Error('the load ended before --settle');
  // Messages sent after the snapshot: those the CPU figures cover (to the nearest tick).
  const steady = arrivals.filter((a) => a[3] - t0 >= settle * 1000);
  const messages = (sent * (seconds - settle)) / seconds;
  const r = results.get(name) ?? { rounds: [], all: [], byTick: new Map() };
  results.set(name, r);
  const latencies = steady.map((a) => a[1] * 1000).sort((a, b) => a - b);
  r.all.push(...latencies);
  for (const [, latencyMs, , , tick, place] of steady) {
    const size = tickSizes[tick];
    if (place !== 0 && place !== size - 1) continue;
    const cell = r.byTick.get(size) ?? { first: [], last: [] };
    r.byTick.set(size, cell);
    (place === 0 ? cell.first : cell.last).push(latencyMs * 1000);
  }
  r.rounds.push({
    round,
    mainUs: (after.main - before.main) / 1e3 / messages,
    othersUs: (after.others - before.others) / 1e3 / messages,
    preemptedPerS: (after.preempted - before.preempted) / (seconds - settle),
    p99: quantile(latencies, 0.99),
  });
  process.stdout.write(`round ${round} ${name}: p99 ${quantile(latencies, 0.99).toFixed(0)} µs\n`);
});

const mosquitto = results.get('mosquitto');
console.log(`\n${load.pairs} pairs, ${load.rate} msg/s, QoS ${load.qos}, ${rounds} rounds of ${seconds} s, the first ${settle} s of each left out`);
console.log('server     main thread  other threads  main switched out  p50   p90   p99   p99.9 µs  p99 <= Mosquitto');
console.log('           µs/message   µs/message     while runnable /s');
for (const name of names) {
  const r = results.get(name);
  const all = r.all.sort((a, b) => a - b);
  const wins = name === 'mosquitto' || mosquitto === undefined ? '' : `${r.rounds.filter((x, i) => x.p99 <= mosquitto.rounds[i].p99).length}/${r.rounds.length}`;
  console.log(
    `${name.padEnd(10)} ${median(r.rounds.map((x) => x.mainUs)).toFixed(2).padStart(11)}  ${median(r.rounds.map((x) => x.othersUs)).toFixed(2).padStart(13)}  ` +
      `${median(r.rounds.map((x) => x.preemptedPerS)).toFixed(0).padStart(17)}  ${[0.5, 0.9, 0.99, 0.999].map((q) => quantile(all, q).toFixed(0).padStart(4)).join('  ')}      ${wins}`,
  );
}
// The tick sizes that hold most messages (the same for every server: the load sets them).
const counts = new Map();
for (const r of results.values()) for (const [size, cell] of r.byTick) counts.set(size, (counts.get(size) ?? 0) + cell.first.length * size);
const sizes = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([size]) => size).filter((s) => s > 1).sort((a, b) => a - b);
console.log('\nlatency (µs) of the first and the last message of a tick, by the number the tick sent: median, p99');
console.log(`server     ${sizes.map((s) => `${s} a tick: first      last`.padEnd(30)).join('')}`);
for (const name of names) {
  const r = results.get(name);
  const cells = sizes.map((s) => {
    const cell = r.byTick.get(s);
    if (cell === undefined) return ''.padEnd(30);
    const f = cell.first.sort((a, b) => a - b);
    const l = cell.last.sort((a, b) => a - b);
    return `${quantile(f, 0.5).toFixed(0)}, ${quantile(f, 0.99).toFixed(0)}`.padStart(19) + `${quantile(l, 0.5).toFixed(0)}, ${quantile(l, 0.99).toFixed(0)}`.padStart(11);
  });
  console.log(`${name.padEnd(10)} ${cells.join('')}`);
}
