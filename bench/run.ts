// `npm run bench`: Midge, Aedes and Mosquitto side by side, each started fresh for every run,
// interleaved (A B C A B C ...), under a load generator of raw sockets in worker threads.
// See bench/README.md.

import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROKER_STORES, findExecutable, isMidge, killAllBrokers, type BrokerName } from './harness/brokers.js';
import { Clock } from './harness/clock.js';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './harness/options.js';
import { WorkerPool } from './harness/pool.js';
import { columns, markdownTable, rows, summarize, svgChart, textTable } from './harness/report.js';
import { runOne, type RunResult } from './harness/runner.js';
import { scenarioByName, SCENARIO_NAMES, SCENARIOS } from './harness/scenarios.js';
import { rotate } from './harness/stats.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  const stack = [dir];
  for (let guard = 0; stack.length > 0 && guard < 10_000; guard++) {
    const d = stack.pop()!;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** Rebuilds dist/ when src/ has changed since, so that Midge runs the code of the tree. */
function ensureBuilt(options: BenchOptions): void {
  const cli = join(repoRoot, 'dist/cli.js');
  const stale = !existsSync(cli) || newestMtime(join(repoRoot, 'src')) > statSync(cli).mtimeMs;
  if (!stale) return;
  if (!options.build) {
    console.log(existsSync(cli) ? 'note: dist/ is older than src/ (--no-build): Midge runs the old build' : 'warning: dist/cli.js is missing; Midge will fail');
    return;
  }
  console.log('building Midge (src/ is newer than dist/) ...');
  const tsc = join(repoRoot, 'node_modules/.bin/tsc');
  const r = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit', timeout: 300_000 });
  if (r.status !== 0) console.log(`warning: the build reported errors (status ${r.status}); Midge runs whatever dist/ holds`);
}

function shell(command: string): string {
  try {
    return execFileSync('sh', ['-c', command], { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return '';
  }
}

function versions(baselineDir: string | undefined): Record<string, string> {
  const aedes = JSON.parse(readFileSync(join(repoRoot, 'node_modules/aedes/package.json'), 'utf8')) as { version: string };
  const midge = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const mosquitto = findExecutable('mosquitto');
  const mosquittoVersion = mosquitto ? /version\s+(\S+)/.exec(shell(`${mosquitto} -h 2>&1 | head -1`))?.[1] ?? '?' : 'not installed';
  const head = shell('git -C "$0" rev-parse --short HEAD 2>/dev/null'.replace('$0', repoRoot)) || 'no commit';
  const out: Record<string, string> = { midge: `${midge.version} (${head})`, aedes: aedes.version, mosquitto: mosquittoVersion, node: process.version };
  if (baselineDir !== undefined) {
    const base = shell('git -C "$0" rev-parse --short HEAD 2>/dev/null'.replace('$0', baselineDir)) || 'no commit';
    out['midge-base'] = `${baselineDir} (${base})`;
  }
  return out;
}

/** The mount point and filesystem type holding `dir` (from /proc/mounts), e.g. '/ (ext4)'. */
function filesystemOf(dir: string): string {
  try {
    const path = realpathSync(dir);
    let best = { mount: '', type: '?' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mount, type] = line.split(' ');
      if (mount === undefined || type === undefined) continue;
      const inside = mount === '/' || path === mount || path.startsWith(`${mount}/`);
      if (inside && mount.length >= best.mount.length) best = { mount, type };
    }
    return `${best.mount} (${best.type})`;
  } catch {
    return '?';
  }
}

/** The version line of one broker; Midge's variants run the same build. */
function brokerVersion(versions: Record<string, string>, b: BrokerName): string {
  return versions[b] ?? (isMidge(b) ? `${versions.midge} ${BROKER_STORES[b]}` : '?');
}

function machine(): Record<string, string | number> {
  return {
    cpu: cpus()[0]?.model ?? '?',
    cpus: availableParallelism(),
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    fdLimit: shell('ulimit -n'),
  };
}

function progressLine(i: number, total: number, r: RunResult): string {
  const head = `[${i}/${total}] ${r.scenario} ${r.broker} (${(r.extra.runS ?? 0).toFixed(1)} s)`.padEnd(42);
  if (!r.ok) return `${head} FAILED: ${r.error}`;
  const unit = r.scenario === 'connections' ? 'conn/s' : 'msg/s';
  const f = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d }) : '-');
  return `${head} ${f(r.throughput).padStart(10)} ${unit}  p99 ${f(r.p99Ms, 2)} ms  CPU ${f(r.cpuPerMillion, 2)} s/M (${f(r.brokerCpuPct)}%)  ` +
    `lost ${r.lost} dup ${r.duplicates} reord ${r.reordered ?? '-'}  RSS ${f(r.brokerPeakRssMiB)} MiB  gen ${f(r.genCpuPct)}% (thread max ${f(r.genThreadMaxPct)}%, ELU ${f(r.genEluMax, 2)})  other ${f(r.otherCpuPct)}%  wait ${f(r.brokerWaitPct, 1)}%` +
    (r.errors.length > 0 ? `  errors: ${r.errors[0]}` : '') +
    (r.brokerLog ? `\n    broker log: ${r.brokerLog.split('\n').slice(-3).join('\n    ')}` : '');
}

interface Meta {
  type: 'meta';
  date: string;
  argv: string[];
  machine: Record<string, string | number>;
  versions: Record<string, string>;
  options: BenchOptions;
  /** Mount point and filesystem type of options.dataRoot (SQLite variants of Midge). */
  dataFs?: string;
}

/**
 * The table on the terminal, and the Markdown summary and SVG chart: `latest` for a run of every
 * scenario, `latest-quick` for --quick, `latest-partial` for anything else.
 */
function writeReports(meta: Meta, results: RunResult[], outDir: string, jsonlName: string, minutes: number): void {
  const options = meta.options;
  const summaries = summarize(results);
  const body = rows(summaries);
  const header = columns(summaries);
  console.log(`\n${textTable(header, body)}\n`);
  const complete = options.scenarios.length === SCENARIO_NAMES.length && options.brokers.includes('midge') && options.brokers.length >= 2;
  const variants = options.brokers.filter((b) => b !== 'midge' && isMidge(b));
  const base = options.quick ? 'latest-quick' : complete ? 'latest' : 'latest-partial';
  // The full and quick runs keep their raw results beside the summary (tracked in git, unlike the
  // dated files), so that every number of latest.md can be checked and the summary rebuilt.
  let raw = `\`${jsonlName}\``;
  if (base !== 'latest-partial') {
    const source = resolve(repoRoot, jsonlName);
    const copy = join(outDir, `${base}.jsonl`);
    if (resolve(copy) !== source) copyFileSync(source, copy);
    raw = `\`${relative(repoRoot, copy)}\` (a copy of \`${jsonlName}\`)`;
  }
  const title = `Midge vs Aedes vs Mosquitto — ${meta.date.slice(0, 10)}, ${meta.machine.cpus} CPUs ${meta.machine.cpu}${options.quick ? ' (quick)' : ''}`;
  writeFileSync(join(outDir, `${base}.svg`), svgChart(summaries, title));
  const md = [
    `# Benchmark: ${options.quick ? 'quick smoke run' : complete ? 'latest full run' : 'latest partial run'}`,
    '',
    `- date: ${meta.date}; took ${minutes.toFixed(1)} min`,
    `- machine: ${meta.machine.cpu}, ${meta.machine.cpus} CPUs, ${meta.machine.memGiB} GiB, Linux ${meta.machine.kernel}, open files ${meta.machine.fdLimit}`,
    `- versions: ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...(variants.length > 0
      ? [`- stores: ${options.brokers.map((b) => `${b}: ${BROKER_STORES[b] ?? '?'}`).join('; ')}; data directories under ${options.dataRoot} on ${meta.dataFs ?? '?'}`]
      : []),
    `- command: \`npm run bench${meta.argv.length > 0 ? ` -- ${meta.argv.join(' ')}` : ''}\``,
    `- ${options.rounds} round(s), ${options.durationS} s measured after ${options.warmupS} s warm-up, ${options.workers} generator worker(s), payload ${options.sizes.payload} B; raw results: ${raw}`,
    '',
    markdownTable(header, body),
    '',
    'Medians over the rounds; sent/received/lost/dup/reord are sums. rate/s is messages (deliveries) received per second in the',
    'measured window (connects per second for `connections`, retained messages per second from SUBSCRIBE to the last one for',
    '`retained-*`). CPU s/M is broker CPU seconds per million delivered messages (per million connects for `connections`).',
    'Latency is end to end, send to receive (connect to CONNACK for `connections`, SUBSCRIBE to arrival for `retained-*`).',
    'gen CPU% is the whole load generator, gen thread max% its busiest worker thread; other CPU% is everything else on the',
    'machine (noise); broker wait% is the time the main thread of the broker was ready to run but waited for a CPU. rate vs midge and CPU vs midge (when midge-sqlite, midge-fsync or midge-net ran): that broker over Midge with',
    '--memory in the same scenario. See bench/README.md.',
    '',
    '## Scenarios',
    '',
    ...options.scenarios.map((n) => `- \`${n}\`: ${SCENARIOS.find((s) => s.name === n)!.describe(options.sizes)}`),
    '',
    `![chart](${base}.svg)`,
    '',
  ].join('\n');
  writeFileSync(join(outDir, `${base}.md`), md);
  console.log(`results: ${jsonlName}\nsummary: ${join(options.outDir, `${base}.md`)}, chart: ${join(options.outDir, `${base}.svg`)}  (${minutes.toFixed(1)} min)`);
}

/** --report FILE: the table, summary and chart again from a results file, without running anything. */
function report(file: string): number {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const meta = JSON.parse(lines[0]) as Meta;
  if (meta.type !== 'meta') throw new Error(`${file} does not start with a meta line`);
  const results = lines.slice(1).map((l) => JSON.parse(l) as RunResult & { type: string }).filter((r) => r.type === 'result');
  const first = Date.parse(results[0]?.startedAt ?? meta.date);
  const last = results.length > 0 ? Date.parse(results[results.length - 1].startedAt) + (results[results.length - 1].extra.runS ?? 0) * 1000 : first;
  writeReports(meta, results, resolve(repoRoot, meta.options.outDir), relative(repoRoot, resolve(file)), (last - first) / 60_000);
  return 0;
}

async function main(): Promise<number> {
  let options: BenchOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (options === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.reportFrom !== undefined) return report(options.reportFrom);
  if (options.brokers.includes('mosquitto') && findExecutable('mosquitto') === undefined) {
    console.log('note: mosquitto is not installed; running without it');
    options.brokers = options.brokers.filter((b) => b !== 'mosquitto');
  }
  const fdLimit = Number(shell('ulimit -n'));
  if (options.scenarios.includes('connections') && Number.isFinite(fdLimit) && fdLimit < options.sizes.connections + 200) {
    const cap = Math.max(100, fdLimit - 500);
    console.log(`note: the open-file limit is ${fdLimit}; connections capped at ${cap} (raise it with ulimit -n)`);
    options.sizes.connections = cap;
  }
  if (options.brokers.some(isMidge)) ensureBuilt(options);

  const outDir = resolve(repoRoot, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const jsonl = join(outDir, `results-${stamp}.jsonl`);
  const tmpDir = mkdtempSync(join(tmpdir(), 'midge-bench-'));
  options.dataRoot = resolve(options.dataRoot);
  const brokerOptions = { tmpDir, profileDir: options.profileDir, maxInflight: options.sizes.maxInflight, maxQueued: 1_000_000, dataRoot: options.dataRoot, baselineDir: options.baselineDir };
  if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });

  const usesData = options.brokers.some((b) => b !== 'midge' && isMidge(b));
  if (usesData) mkdirSync(options.dataRoot, { recursive: true });
  const meta: Meta = {
    type: 'meta', date: new Date().toISOString(), argv: process.argv.slice(2), machine: machine(), versions: versions(options.baselineDir), options,
    dataFs: usesData ? filesystemOf(options.dataRoot) : undefined,
  };
  writeFileSync(jsonl, JSON.stringify(meta) + '\n');
  console.log(`machine: ${meta.machine.cpu} x${meta.machine.cpus}, ${meta.machine.memGiB} GiB, Linux ${meta.machine.kernel}, ${meta.versions.node}`);
  console.log(`brokers: ${options.brokers.map((b) => `${b} ${brokerVersion(meta.versions, b)}`).join(', ')}`);
  if (usesData) console.log(`data directories: fresh for every run under ${options.dataRoot}, on ${meta.dataFs}`);
  console.log(`${options.rounds} round(s) of ${options.scenarios.length} scenario(s); ${options.durationS} s measured after ${options.warmupS} s warm-up; ${options.workers} generator worker(s)`);

  const clock = new Clock(process.hrtime.bigint());
  const pool = new WorkerPool(options.workers);
  const results: RunResult[] = [];
  const started = Date.now();
  try {
    const total = options.rounds * options.scenarios.length * options.brokers.length;
    let i = 0;
    for (let round = 1; round <= options.rounds; round++) {
      // Each round starts one broker further on (A B C, B C A, C A B, ...): a broker that always
      // ran first, or always right after the same other one, would carry whatever that place
      // costs or saves into every one of its rounds.
      const order = rotate(options.brokers, round - 1);
      for (const name of options.scenarios) {
        for (const broker of order) {
          const t0 = Date.now();
          const result = await runOne({ options, pool, clock, brokerOptions }, scenarioByName(name), broker as BrokerName, round);
          result.extra.runS = (Date.now() - t0) / 1000;
          results.push(result);
          appendFileSync(jsonl, JSON.stringify({ type: 'result', ...result }) + '\n');
          console.log(progressLine(++i, total, result));
        }
      }
    }
  } finally {
    await pool.close();
    killAllBrokers();
    rmSync(tmpDir, { recursive: true, force: true });
  }

  const minutes = (Date.now() - started) / 60_000;
  writeReports(meta, results, outDir, relative(repoRoot, jsonl), minutes);
  return results.every((r) => r.ok) ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllBrokers();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    killAllBrokers();
    process.exit(1);
  },
);
