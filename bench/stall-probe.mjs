// Preloaded into a broker by bench/latency-stalls.mjs (node --import). A 1 ms timer notes every
// tick that comes more than 3 ms after the one before (its event loop was held up or it was not
// running), with the process CPU used in between; a PerformanceObserver notes every garbage
// collection. On SIGUSR2 both lists go to the JSON file named by STALL_PROBE_OUT. Times are
// absolute (ms since the epoch), to line up with the load generator's.
import { writeFileSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';

const gaps = [];
const gcs = [];
let lastAt = performance.now();
let lastCpu = process.cpuUsage();
setInterval(() => {
  const now = performance.now();
  const cpu = process.cpuUsage();
  const ms = now - lastAt;
  if (ms > 3) gaps.push({ at: performance.timeOrigin + lastAt, ms, cpuMs: (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000 });
  lastAt = now;
  lastCpu = cpu;
}, 1).unref();
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration });
}).observe({ entryTypes: ['gc'] });
process.on('SIGUSR2', () => {
  if (process.env.STALL_PROBE_OUT) writeFileSync(process.env.STALL_PROBE_OUT, JSON.stringify({ gaps, gcs }));
});
