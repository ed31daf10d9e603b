// Bytes of JavaScript heap Midge allocates per message at a low rate: what its garbage collector
// has to clear for each one. Starts Midge (this build, --memory) under --trace-gc, sends the
// low-rate load of bench/loopback.mjs at QoS 0 and then at QoS 1 (each with a fresh broker), and
// adds up what each garbage collection found allocated since the one before (its heap size
// before, minus the heap size after the previous one) over the collections during the load.
// V8 prints sizes to 0.1 MiB, so take the figure to a few percent; use it to compare builds.
// Run (after npm run build): node bench/alloc-per-message.mjs [--seconds 8] [--rate 5000] [--pairs 10]

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePort, lowRateLoad, option, waitForPort, withTimeout } from './loopback.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(option('seconds', 8));
const rate = Number(option('rate', 5000));
const pairs = Number(option('pairs', 10));

/** One --trace-gc line: `[pid:0x…]   1234 ms: Scavenge 7.1 (9.7) -> 5.5 (9.7) MB, …`. */
const GC_LINE = /\s(\d+) ms: (?:Scavenge|Mark-Compact|Minor Mark-Compact)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/;

async function measure(qos) {
  const port = await freePort();
  const broker = spawn(process.execPath, ['--trace-gc', join(here, 'bin/midge.js'), '--port', String(port), '--host', '127.0.0.1', '--memory', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise((resolve) => broker.once('exit', resolve));
  /** [ms since the broker started, heap MiB before, heap MiB after]. */
  const gcs = [];
  let rest = '';
  broker.stdout.setEncoding('utf8').on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      const m = GC_LINE.exec(line);
      if (m !== null) gcs.push([Number(m[1]), Number(m[2]), Number(m[3])]);
    }
  });
  const started = performance.now();
  try {
    await waitForPort(port);
    const from = performance.now() - started;
    const { sent } = await lowRateLoad(port, { pairs, rate, seconds, prefix: `alloc${qos}`, qos });
    const to = performance.now() - started;
    // The broker's clock for its lines starts a little before ours: count only the load's middle.
    const during = gcs.filter(([t]) => t > from + 1000 && t < to - 500);
    if (during.length < 3) throw new Error(`only ${during.length} collections during the load; run longer (--seconds)`);
    let mib = 0;
    for (let i = 1; i < during.length; i++) mib += during[i][1] - during[i - 1][2];
    const spanS = (during.at(-1)[0] - during[0][0]) / 1000;
    const messages = (sent / seconds) * spanS;
    return { qos, collections: during.length, mib, spanS, bytesPerMessage: (mib * 1024 * 1024) / messages };
  } finally {
    broker.kill('SIGTERM');
    await withTimeout(exited, 10_000, 'the broker to stop');
  }
}

for (const qos of [0, 1]) {
  const r = await measure(qos);
  console.log(`QoS ${qos}: ${Math.round(r.bytesPerMessage)} B per message (${r.mib.toFixed(1)} MiB over ${r.spanS.toFixed(1)} s, ${r.collections} collections, ${rate} msg/s)`);
}
