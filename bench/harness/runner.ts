// One run: a fresh broker, one scenario, the measurements. The broker's CPU is read from /proc
// at the edges of the measured window; the generator's CPU (all its threads) likewise from
// process.cpuUsage().

import type { QoS } from '../../src/protocol/packets.js';
import { startBroker, type BrokerName, type BrokerOptions, type RunningBroker } from './brokers.js';
import { Clock, sleep } from './clock.js';
import { Histogram } from './histogram.js';
import type { FlowCounts, WorkerReply } from './messages.js';
import type { BenchOptions } from './options.js';
import type { WorkerPool } from './pool.js';
import { cpuSeconds, runQueueWaitSeconds, memoryMiB, systemBusySeconds } from './proc.js';
import { planFlow, split, type Scenario } from './scenarios.js';

export interface RunResult {
  round: number;
  scenario: string;
  broker: BrokerName;
  qos: QoS;
  ok: boolean;
  error?: string;
  startedAt: string;
  /** Seconds the throughput is measured over. */
  seconds: number;
  sent: number;
  received: number;
  expected: number;
  lost: number;
  duplicates: number;
  /** null where order is not defined (retained delivery, connections). */
  reordered: number | null;
  unexpected: number;
  unacked: number;
  sentPerSec: number;
  /** Messages (deliveries) per second received in the window; connects per second for connections. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * Latency scenarios only: the round's latency histogram (Histogram.toSparse), so a report can
   * take percentiles over the messages of every round together.
   */
  latencyHistogram?: number[];
  brokerCpuS: number;
  /** Broker CPU over the window, % of one core: near 100 means the broker was the bottleneck. */
  brokerCpuPct: number;
  /** Broker CPU seconds per million messages delivered (per million connects for connections). */
  cpuPerMillion: number;
  brokerIdleRssMiB: number;
  brokerPeakRssMiB: number;
  /** Generator CPU over the window, % of one core (all worker threads). */
  genCpuPct: number;
  /** Highest event-loop utilisation of a generator worker over the window. */
  genEluMax: number;
  /** Highest CPU of one generator worker thread over the window, % of one core. */
  genThreadMaxPct: number;
  /** CPU used by everything else on the machine over the window, % of one core: noise. */
  otherCpuPct: number;
  /**
   * Time the broker's main thread (its event loop) was ready to run but waited for a CPU, % of
   * the window. On a machine shared with the generator this, more than the broker's own code,
   * makes the slow 1% at a low rate (bench/README.md).
   */
  brokerWaitPct: number;
  extra: Record<string, number>;
  errors: string[];
  /** The last lines the broker wrote on stderr (warnings, errors). */
  brokerLog: string;
}

export interface RunContext {
  options: BenchOptions;
  pool: WorkerPool;
  clock: Clock;
  brokerOptions: BrokerOptions;
}

type Measured = Omit<RunResult, 'round' | 'scenario' | 'broker' | 'qos' | 'ok' | 'error' | 'startedAt' | 'brokerIdleRssMiB' | 'brokerPeakRssMiB' | 'brokerLog'>;

function emptyMeasured(): Measured {
  return {
    seconds: 0, sent: 0, received: 0, expected: 0, lost: 0, duplicates: 0, reordered: 0, unexpected: 0, unacked: 0,
    sentPerSec: 0, throughput: 0, p50Ms: NaN, p99Ms: NaN, maxMs: NaN, brokerCpuS: NaN, brokerCpuPct: NaN, cpuPerMillion: NaN,
    genCpuPct: NaN, genEluMax: NaN, genThreadMaxPct: NaN, otherCpuPct: NaN, brokerWaitPct: NaN, extra: {}, errors: [],
  };
}

function expectReply<T extends WorkerReply['op']>(reply: WorkerReply, op: T): Extract<WorkerReply, { op: T }> {
  if (reply.op !== op) throw new Error(`expected '${op}' from a worker, got '${reply.op}'`);
  return reply as Extract<WorkerReply, { op: T }>;
}

/** CPU of the broker and of this process, read together. */
function sample(ctx: RunContext, broker: RunningBroker): { us: number; broker: number; gen: number; system: number; wait: number } {
  const cpu = process.cpuUsage();
  return { us: ctx.clock.nowUs(), broker: cpuSeconds(broker.pid), gen: (cpu.user + cpu.system) / 1e6, system: systemBusySeconds(), wait: runQueueWaitSeconds(broker.pid) };
}

function applyCpu(m: Measured, a: ReturnType<typeof sample>, b: ReturnType<typeof sample>, perCount: number): void {
  const seconds = (b.us - a.us) / 1e6;
  m.brokerCpuS = b.broker - a.broker;
  m.brokerCpuPct = (m.brokerCpuS / seconds) * 100;
  m.genCpuPct = ((b.gen - a.gen) / seconds) * 100;
  m.otherCpuPct = Math.max(0, ((b.system - a.system - m.brokerCpuS - (b.gen - a.gen)) / seconds) * 100);
  m.brokerWaitPct = Math.max(0, ((b.wait - a.wait) / seconds) * 100);
  // CPU rate over the sampled interval, over the message rate of the nominal window.
  m.cpuPerMillion = perCount > 0 ? ((m.brokerCpuS / seconds) / perCount) * 1e6 : NaN;
}

function addCounts(m: Measured, c: FlowCounts, histogram: Histogram): void {
  m.received += c.received;
  m.expected += c.expected;
  m.lost += c.lost;
  m.duplicates += c.duplicates;
  m.reordered = (m.reordered ?? 0) + c.reordered;
  m.unexpected += c.unexpected;
  m.unacked += c.unacked;
  histogram.merge(Object.assign(new Histogram(c.histogram), { max: c.latencyMaxUs }));
  if (!(m.genEluMax >= c.elu)) m.genEluMax = c.elu;
  if (!(m.genThreadMaxPct >= c.threadCpuPct)) m.genThreadMaxPct = c.threadCpuPct;
  for (const e of c.errors) if (m.errors.length < 10) m.errors.push(e);
}

function applyLatency(m: Measured, h: Histogram): void {
  m.p50Ms = h.quantile(0.5) / 1000;
  m.p99Ms = h.quantile(0.99) / 1000;
  m.maxMs = h.count > 0 ? h.max / 1000 : NaN;
}

const sleepUntil = (clock: Clock, us: number): Promise<void> => sleep(Math.max(0, (us - clock.nowUs()) / 1000));

async function runFlow(ctx: RunContext, scenario: Scenario, broker: RunningBroker, tag: string): Promise<Measured> {
  const { options, pool, clock } = ctx;
  const m = emptyMeasured();
  const shares = planFlow(scenario, options.sizes, pool.size);
  const clientCount = shares.reduce((n, s) => n + s.publishers.length + s.subscribers.length, 0);
  const slots = Math.max(0, ...shares.flatMap((s) => s.subscribers.flatMap((sub) => sub.paces.map((p) => p.slot)))) + 1;
  const progress = new SharedArrayBuffer(4 * slots);
  await pool.all(shares.map((share, i) => ({
    op: 'setup' as const,
    port: broker.port,
    tag: `${tag}w${i}`,
    epochNs: clock.epochNs,
    payloadSize: options.sizes.payload,
    progress,
    publishers: share.publishers,
    subscribers: share.subscribers,
    connectConcurrency: 100,
    timeoutMs: 20_000,
  })), 60_000 + clientCount * 20);

  const startUs = clock.nowUs() + 100_000;
  const warmupEndUs = startUs + options.warmupS * 1e6;
  const endUs = warmupEndUs + options.durationS * 1e6;
  const stopped = pool.all(shares.map(() => ({ op: 'start' as const, startUs, warmupEndUs, endUs })), (endUs - clock.nowUs()) / 1000 + 30_000);
  stopped.catch(() => undefined);
  await sleepUntil(clock, warmupEndUs);
  const a = sample(ctx, broker);
  await sleepUntil(clock, endUs);
  const b = sample(ctx, broker);

  const sent: Record<number, number> = {};
  for (const reply of await stopped) Object.assign(sent, expectReply(reply, 'stopped').sent);
  const drainMs = 30_000;
  const idleMs = scenario.qos > 0 ? 5_000 : 1_500;
  const replies = await pool.all(shares.map(() => ({ op: 'expect' as const, sent, drainMs, idleMs })), drainMs + 15_000);

  const histogram = new Histogram();
  let receivedInWindow = 0;
  let sentInWindow = 0;
  for (const reply of replies) {
    const counts = expectReply(reply, 'result');
    addCounts(m, counts, histogram);
    receivedInWindow += counts.receivedInWindow;
    sentInWindow += counts.sentInWindow;
  }
  m.sent = Object.values(sent).reduce((x, y) => x + y, 0);
  m.seconds = options.durationS;
  m.throughput = receivedInWindow / options.durationS;
  m.sentPerSec = sentInWindow / options.durationS;
  applyLatency(m, histogram);
  if (scenario.name.startsWith('latency')) m.latencyHistogram = histogram.toSparse();
  applyCpu(m, a, b, m.throughput);
  return m;
}

async function runConnections(ctx: RunContext, broker: RunningBroker, tag: string): Promise<Measured> {
  const { options, pool, clock } = ctx;
  const m = emptyMeasured();
  m.reordered = null;
  const idleRss = memoryMiB(broker.pid, 'VmRSS');
  // The clients come to a broker that has been idle for a while, as in service: a
  // garbage-collected broker (Midge, Aedes) keeps the heap it grew while starting until V8's
  // memory reducer shrinks it, about 8 s later, and that slack is not the connections' memory.
  if (!options.quick) await sleep(SETTLE_MS);
  const baseRss = options.quick ? idleRss : memoryMiB(broker.pid, 'VmRSS');
  const counts = split(options.sizes.connections, pool.size);
  const a = sample(ctx, broker);
  const replies = await pool.all(counts.map((count, i) => ({
    op: 'connections' as const, port: broker.port, tag: `${tag}w${i}`, epochNs: clock.epochNs, count, concurrency: Math.ceil(100 / pool.size), timeoutMs: 30_000,
  })), 180_000);
  const b = sample(ctx, broker);
  const histogram = new Histogram();
  let first = Infinity;
  let last = 0;
  let connected = 0;
  let failed = 0;
  for (const reply of replies) {
    const r = expectReply(reply, 'connected');
    if (r.connected > 0) {
      first = Math.min(first, r.firstStartUs);
      last = Math.max(last, r.lastConnackUs);
    }
    connected += r.connected;
    failed += r.failed;
    histogram.merge(Object.assign(new Histogram(r.histogram), { max: r.latencyMaxUs }));
    if (!(m.genThreadMaxPct >= r.threadCpuPct)) m.genThreadMaxPct = r.threadCpuPct;
    for (const e of r.errors) if (m.errors.length < 10) m.errors.push(e);
  }
  m.seconds = connected > 0 ? (last - first) / 1e6 : NaN;
  m.sent = options.sizes.connections;
  m.received = connected;
  m.expected = options.sizes.connections;
  m.lost = failed;
  m.throughput = connected / m.seconds;
  applyLatency(m, histogram);
  applyCpu(m, a, b, 0);
  m.cpuPerMillion = connected > 0 ? (m.brokerCpuS / connected) * 1e6 : NaN;
  // Let the broker settle (allocations of the last connects, GC) before reading its RSS.
  await sleep(options.quick ? 300 : 1000);
  const rss = memoryMiB(broker.pid, 'VmRSS');
  m.extra = { connected, failed, idleRssMiB: idleRss, baseRssMiB: baseRss, connectedRssMiB: rss, kbPerConnection: ((rss - baseRss) * 1024) / connected };
  return m;
}

/** How long an idle broker waits before the connections scenario (not with --quick). */
const SETTLE_MS = 12_000;

async function runRetained(ctx: RunContext, scenario: Scenario, broker: RunningBroker, tag: string): Promise<Measured> {
  const { options, pool, clock } = ctx;
  const m = emptyMeasured();
  m.reordered = null;
  const count = options.sizes.retained;
  const worker = pool.workers[0];
  const loaded = expectReply(await worker.call({
    op: 'retained-load', port: broker.port, tag: `${tag}w0`, epochNs: clock.epochNs, count, payloadSize: options.sizes.payload, window: 100, timeoutMs: 120_000,
  }, 150_000), 'retained-loaded');
  const a = sample(ctx, broker);
  const r = expectReply(await worker.call({ op: 'retained-subscribe', qos: scenario.qos, timeoutMs: 120_000, idleMs: 5_000 }, 150_000), 'retained-result');
  const b = sample(ctx, broker);
  const histogram = new Histogram();
  addCounts(m, r, histogram);
  m.reordered = null;
  m.sent = count;
  m.seconds = r.allMs / 1000;
  m.throughput = r.unique / m.seconds;
  m.sentPerSec = NaN;
  applyLatency(m, histogram);
  applyCpu(m, a, b, 0);
  m.cpuPerMillion = r.unique > 0 ? (m.brokerCpuS / r.unique) * 1e6 : NaN;
  m.extra = { loadMs: loaded.loadMs, loadPerSec: count / (loaded.loadMs / 1000), firstMs: r.firstMs, allMs: r.allMs, maxUnacked: r.maxUnacked };
  for (const e of loaded.errors) if (m.errors.length < 10) m.errors.push(e);
  return m;
}

/** Waits (at most maxS) until the machine's other load is under a quarter of a CPU; returns seconds waited. */
async function waitForQuiet(maxS: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < maxS * 1000) {
    const a = systemBusySeconds();
    const own = process.cpuUsage();
    await sleep(500);
    const ownDelta = (process.cpuUsage().user + process.cpuUsage().system - own.user - own.system) / 1e6;
    if ((systemBusySeconds() - a - ownDelta) / 0.5 < 0.25) break;
  }
  return (Date.now() - started) / 1000;
}

/** Starts `brokerName` fresh, runs `scenario` against it, stops it. Never throws. */
export async function runOne(ctx: RunContext, scenario: Scenario, brokerName: BrokerName, round: number): Promise<RunResult> {
  const startedAt = new Date().toISOString();
  const base = { round, scenario: scenario.name, broker: brokerName, qos: scenario.qos, startedAt };
  let broker: RunningBroker | undefined;
  let idleRss = NaN;
  try {
    const waited = ctx.options.quietWaitS > 0 ? await waitForQuiet(ctx.options.quietWaitS) : 0;
    broker = await startBroker(brokerName, ctx.brokerOptions);
    idleRss = memoryMiB(broker.pid, 'VmRSS');
    const tag = `b${round}${scenario.name.replace(/[^a-z0-9]/g, '').slice(0, 8)}`;
    const measured = scenario.kind === 'flow'
      ? await runFlow(ctx, scenario, broker, tag)
      : scenario.kind === 'connections'
        ? await runConnections(ctx, broker, tag)
        : await runRetained(ctx, scenario, broker, tag);
    const peak = memoryMiB(broker.pid, 'VmHWM');
    if (broker.exited) throw new Error(broker.describeExit());
    measured.extra.quietWaitS = waited;
    return { ...base, ok: true, ...measured, brokerIdleRssMiB: idleRss, brokerPeakRssMiB: peak, brokerLog: broker.stderrTail };
  } catch (err) {
    let message = err instanceof Error ? err.message : String(err);
    if (broker?.exited) message += ` [${broker.describeExit()}]`;
    const peak = broker !== undefined ? memoryMiB(broker.pid, 'VmHWM') : NaN;
    return { ...base, ok: false, error: message, ...emptyMeasured(), brokerIdleRssMiB: idleRss, brokerPeakRssMiB: peak, brokerLog: broker?.stderrTail ?? '' };
  } finally {
    await ctx.pool.teardown();
    await broker?.stop();
  }
}
