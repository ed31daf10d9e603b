// Flags of `npm run bench`. Each flag can also come from the environment as BENCH_<NAME>
// (for example BENCH_DURATION=10); a flag on the command line wins.

import { existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROKER_NAMES, DEFAULT_BROKERS, FLOOR_SCENARIOS, type BrokerName } from './brokers.js';
import { SCENARIO_NAMES } from './scenarios.js';

export interface Sizes {
  /** Publishers of fan-in. */
  fanInPublishers: number;
  /** Publisher/subscriber pairs of the pairs scenarios. */
  pairs: number;
  /** Subscribers of fan-out. */
  fanOutSubscribers: number;
  /** Pairs sharing the offered rate of the latency scenarios. */
  latencyPairs: number;
  /** Offered rate of the latency scenarios, messages per second in total. */
  rate: number;
  connections: number;
  retained: number;
  /** Unacked QoS 1/2 messages per publisher. */
  window: number;
  /** The brokers' in-flight window towards each subscriber (Midge --max-inflight, Mosquitto max_inflight_messages). */
  maxInflight: number;
  /** Fan-out: messages the publisher may be ahead of its pacing subscriber. */
  fanOutWindow: number;
  /** QoS 0 max-rate publishers: messages each may be ahead of its subscriber (0: no limit). */
  qos0Ahead: number;
  /** slow-qos1: publishers, the slow subscriber's rate (msg/s), and how far each publisher may be ahead of it. */
  slowPublishers: number;
  slowRate: number;
  slowAhead: number;
  payload: number;
}

export interface BenchOptions {
  brokers: BrokerName[];
  scenarios: string[];
  rounds: number;
  durationS: number;
  warmupS: number;
  workers: number;
  quick: boolean;
  sizes: Sizes;
  profileDir: string | undefined;
  /** Before each run, wait up to this long for other processes to leave the CPUs alone. */
  quietWaitS: number;
  build: boolean;
  outDir: string;
  /** Parent of the fresh data directory of each midge-sqlite / midge-fsync run. */
  dataRoot: string;
  /** Render the reports of an earlier results file instead of running. */
  reportFrom: string | undefined;
  /** A built checkout of Midge that runs as midge-base. */
  baselineDir: string | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]

  --brokers LIST       comma-separated: ${BROKER_NAMES.join(',')}
                       (default: ${DEFAULT_BROKERS.join(',')}; mosquitto only if installed).
                       midge-sqlite: Midge with --data-dir (SQLite, --durability os) instead of
                       --memory; midge-fsync: the same with --durability fsync;
                       midge-net: --memory with --net-sockets (TCP through net.Socket);
                       midge-base: --memory, the build of --baseline DIR;
                       floor: not a broker but about the least a Node server can do (PUBLISH bytes
                       passed on unparsed, bench/forward-floor.mjs): latency-qos0/1 only;
                       floor-c: the same in C (bench/floor.c, built with cc)
  --scenarios LIST     comma-separated: ${SCENARIO_NAMES.join(',')} (default: all)
  --rounds N           interleaved repetitions, each round one broker further on:
                       A B C, B C A, C A B, ... (default 1)
  --duration S         measured seconds of each max-rate/latency run (default 5; quick 1)
  --warmup S           seconds sent before measuring (default 1; quick 0.3)
  --workers N          load-generator worker threads (default: CPUs - 1, at least 2, at most 4)
  --quick              small sizes and short runs, a smoke test of about a minute
  --publishers N       fan-in publishers (100)
  --pairs N            pairs scenarios: publisher/subscriber pairs (100)
  --subscribers N      fan-out subscribers (1000)
  --latency-pairs N    latency scenarios: pairs sharing the offered rate (10)
  --rate N             latency scenarios: offered messages per second in total (5000)
  --connections N      connections scenario: idle clients (10000)
  --retained N         retained scenarios: retained topics (50000)
  --window N           unacked QoS 1/2 messages per publisher (20)
  --max-inflight N     the brokers' in-flight window per subscriber: Midge --max-inflight,
                       Mosquitto max_inflight_messages; Aedes has no such setting (100).
                       Retained messages sent on SUBSCRIBE are not held to it: Midge's
                       own retained window (1000), no limit in Mosquitto
  --fanout-window N    fan-out: messages the publisher may run ahead of the slowest subscriber (1000)
  --qos0-ahead N       QoS 0 max-rate: messages a publisher may run ahead of its subscriber,
                       on top of socket backpressure; 0 = socket backpressure only (100)
  --slow-publishers N  slow-qos1: publishers (10)
  --slow-rate N        slow-qos1: messages per second the slow subscriber reads (5000)
  --slow-ahead N       slow-qos1: messages each publisher may be ahead of the slow subscriber,
                       which the broker queues for it (1000)
  --payload N          payload bytes, at least 16 (64)
  --quiet-wait S       before each run wait up to S seconds until other processes use less
                       than 25% of a CPU (default 5; quick 0)
  --profile DIR        run Midge under node --cpu-prof, profiles written to DIR
  --no-build           do not rebuild dist/ when src/ is newer
  --out DIR            where results go (default bench/results)
  --data-root DIR      where midge-sqlite / midge-fsync get a fresh data directory for each
                       run, removed after it (default: the OS temp dir, ${tmpdir()})
  --baseline DIR       a built checkout of Midge (e.g. a git worktree of an earlier commit
                       after npm run build) to run as midge-base, beside this one
  --report FILE        no run: print the table and rewrite the summary and chart of a
                       results-*.jsonl file
  -h, --help
`;

const FULL: Sizes = {
  fanInPublishers: 100,
  pairs: 100,
  fanOutSubscribers: 1000,
  latencyPairs: 10,
  rate: 5000,
  connections: 10_000,
  retained: 50_000,
  window: 20,
  maxInflight: 100,
  fanOutWindow: 1000,
  qos0Ahead: 100,
  slowPublishers: 10,
  slowRate: 5000,
  slowAhead: 1000,
  payload: 64,
};

const QUICK: Sizes = {
  ...FULL,
  fanInPublishers: 20,
  pairs: 20,
  fanOutSubscribers: 100,
  latencyPairs: 5,
  rate: 2000,
  connections: 1000,
  retained: 5000,
};

const SIZE_FLAGS: Record<string, keyof Sizes> = {
  publishers: 'fanInPublishers',
  pairs: 'pairs',
  subscribers: 'fanOutSubscribers',
  'latency-pairs': 'latencyPairs',
  rate: 'rate',
  connections: 'connections',
  retained: 'retained',
  window: 'window',
  'max-inflight': 'maxInflight',
  'fanout-window': 'fanOutWindow',
  'qos0-ahead': 'qos0Ahead',
  'slow-publishers': 'slowPublishers',
  'slow-rate': 'slowRate',
  'slow-ahead': 'slowAhead',
  payload: 'payload',
};

const VALUE_FLAGS = new Set(['brokers', 'scenarios', 'rounds', 'duration', 'warmup', 'workers', 'profile', 'quiet-wait', 'out', 'data-root', 'report', 'baseline', ...Object.keys(SIZE_FLAGS)]);
const BOOLEAN_FLAGS = new Set(['quick', 'no-build', 'help']);

export class UsageError extends Error {}

function positive(name: string, raw: string, integer: boolean): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${raw}'`);
  }
  return n;
}

function list<T extends string>(name: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new UsageError(`--${name}: unknown '${item}' (one of ${allowed.join(', ')})`);
  }
  if (items.length === 0) throw new UsageError(`--${name} is empty`);
  return items as T[];
}

/** Parses argv (after the script name) and BENCH_* variables; returns undefined for --help. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | undefined {
  const values = new Map<string, string>();
  for (const name of [...VALUE_FLAGS, ...BOOLEAN_FLAGS]) {
    const fromEnv = env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
    if (fromEnv !== undefined && fromEnv !== '') values.set(name, fromEnv);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') return undefined;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}' (see --help)`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (BOOLEAN_FLAGS.has(name)) {
      values.set(name, eq > 0 ? arg.slice(eq + 1) : 'true');
    } else if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option '${arg}' (see --help)`);
    }
  }
  const flag = (name: string): boolean => {
    const v = values.get(name);
    return v !== undefined && v !== 'false' && v !== '0';
  };
  if (flag('help')) return undefined;

  const quick = flag('quick');
  const sizes: Sizes = { ...(quick ? QUICK : FULL) };
  for (const [name, key] of Object.entries(SIZE_FLAGS)) {
    const raw = values.get(name);
    if (raw !== undefined) sizes[key] = key === 'qos0Ahead' && raw === '0' ? 0 : positive(name, raw, key !== 'rate');
  }
  if (sizes.payload < 16) throw new UsageError('--payload must be at least 16 (send time, publisher id, sequence number)');
  if (sizes.window > 60000) throw new UsageError('--window must be at most 60000');

  const raw = (name: string): string | undefined => values.get(name);
  const brokers = raw('brokers') !== undefined ? list('brokers', raw('brokers')!, BROKER_NAMES) : [...DEFAULT_BROKERS];
  const baselineDir = raw('baseline');
  if (brokers.includes('midge-base') && baselineDir === undefined) throw new UsageError('midge-base needs --baseline DIR');
  if (baselineDir !== undefined && !existsSync(join(baselineDir, 'dist/cli.js'))) {
    throw new UsageError(`--baseline ${baselineDir}: no dist/cli.js there (run npm run build in it)`);
  }
  const scenarios = raw('scenarios') !== undefined ? list('scenarios', raw('scenarios')!, SCENARIO_NAMES) : [...SCENARIO_NAMES];
  const beyondFloor = scenarios.filter((s) => !FLOOR_SCENARIOS.includes(s));
  if ((brokers.includes('floor') || brokers.includes('floor-c')) && beyondFloor.length > 0) {
    throw new UsageError(`the floor serves only ${FLOOR_SCENARIOS.join(', ')}; not ${beyondFloor.join(', ')}`);
  }
  return {
    brokers,
    scenarios,
    rounds: raw('rounds') !== undefined ? positive('rounds', raw('rounds')!, true) : 1,
    durationS: raw('duration') !== undefined ? positive('duration', raw('duration')!, false) : quick ? 1 : 5,
    warmupS: raw('warmup') !== undefined ? positive('warmup', raw('warmup')!, false) : quick ? 0.3 : 1,
    workers: raw('workers') !== undefined ? positive('workers', raw('workers')!, true) : Math.max(2, Math.min(4, availableParallelism() - 1)),
    quick,
    sizes,
    profileDir: raw('profile'),
    quietWaitS: raw('quiet-wait') !== undefined ? (raw('quiet-wait') === '0' ? 0 : positive('quiet-wait', raw('quiet-wait')!, false)) : quick ? 0 : 5,
    build: !flag('no-build'),
    outDir: raw('out') ?? 'bench/results',
    dataRoot: raw('data-root') ?? tmpdir(),
    reportFrom: raw('report'),
    baselineDir,
  };
}
