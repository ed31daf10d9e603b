// Micro-benchmark of the topics layer (not a test):
//   node --expose-gc --import tsx bench/topics.ts
// 1. SubscriptionTree.match over 100,000 subscriptions, a mix of exact and wildcard filters.
// 2. TopicIndex with 1,000,000 topics in two shapes (bushy, and one child per device): build time,
//    heap, match('#') and narrower filters.
// Times are the best of several runs, because shared machines are noisy; heap numbers need
// --expose-gc.
import { SubscriptionTree, TopicIndex } from '../src/topics/index.js';

const gc = (globalThis as { gc?: () => void }).gc;

function heapMB(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1048576;
}

/** The fastest of `runs` timings of fn, in milliseconds. */
function best(runs: number, fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return min;
}

// A small deterministic PRNG so that runs are comparable.
let seed = 12345;
function rand(n: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}

let visits = 0;
const count = (): void => {
  visits++;
};

// Aedes's matcher, for a side-by-side ratio; it comes with the aedes dev dependency. Loaded by a
// computed name so the type checker does not need its (absent) type declarations.
interface Qlobber {
  add(topic: string, value?: unknown): void;
  match(topic: string): unknown[];
  test(topic: string): boolean;
}
type QlobberClass = new (options: object) => Qlobber;
const qlobberOptions = { separator: '/', wildcard_one: '+', wildcard_some: '#', match_empty_levels: true };
async function loadQlobber(path: string, name?: string): Promise<QlobberClass | undefined> {
  try {
    const module = await import(path);
    return (name === undefined ? module.default : module[name]) as QlobberClass;
  } catch {
    return undefined;
  }
}
const QlobberSub = await loadQlobber('qlobber/aedes/qlobber-sub.js');
const QlobberTrue = await loadQlobber('qlobber', 'QlobberTrue');

function benchSubscriptions(): void {
  const SITES = 100;
  const DEVICES = 1000;
  const subscriptions: [filter: string, key: string][] = [];
  // 80,000 exact filters: each device's command topic, one subscriber each.
  for (let i = 0; i < 80_000; i++) subscriptions.push([`site/${i % SITES}/device/${Math.floor(i / SITES)}/cmd`, `dev${i}`]);
  // 15,000 "+" filters: dashboards following one metric across a site's devices.
  for (let i = 0; i < 15_000; i++) subscriptions.push([`site/${i % SITES}/device/+/m${Math.floor(i / SITES)}`, `dash${i}`]);
  // 4,900 "#" filters: per-device debug taps.
  for (let i = 0; i < 4_900; i++) subscriptions.push([`site/${rand(SITES)}/device/${rand(DEVICES)}/#`, `tap${i}`]);
  // 100 broad wildcards; none of them may see "$" topics.
  for (let i = 0; i < 50; i++) subscriptions.push([`site/${i}/#`, `ops${i}`]);
  for (let i = 0; i < 25; i++) subscriptions.push(['#', `audit${i}`]);
  for (let i = 0; i < 25; i++) subscriptions.push(['+/+/device/+/cmd', `mon${i}`]);

  const tree = new SubscriptionTree<number>();
  const before = heapMB();
  for (const [filter, key] of subscriptions) tree.add(filter, key, 1);
  const heap = heapMB() - before;
  console.log(`SubscriptionTree: ${tree.size} subscriptions, ${tree.countNodes()} nodes, ` +
    `heap ${heap.toFixed(1)} MB (${((heap * 1048576) / tree.size).toFixed(0)} bytes/subscription, not counting the filter and key strings the caller passed)`);

  const TOPICS = 4096;
  const topics: string[] = [];
  for (let i = 0; i < TOPICS; i++) {
    const leaf = rand(4) === 0 ? 'cmd' : `m${rand(200)}`;
    topics.push(`site/${rand(SITES)}/device/${rand(DEVICES)}/${leaf}`);
  }
  const MATCHES = 500_000;
  const matchAll = (list: string[]) => (): void => {
    for (let i = 0; i < MATCHES; i++) tree.match(list[i & (list.length - 1)], count);
  };
  matchAll(topics)(); // warm up
  visits = 0;
  let ms = best(5, matchAll(topics));
  const perMatch = visits / MATCHES / 5;
  console.log(`  match, 4096 random device topics: ${((ms * 1e6) / MATCHES).toFixed(0)} ns/match ` +
    `(${(MATCHES / ms / 1000).toFixed(2)} M/s), ${perMatch.toFixed(1)} subscribers visited per match`);
  if (QlobberSub !== undefined) {
    const qlobber = new QlobberSub(qlobberOptions);
    for (const [filter, key] of subscriptions) qlobber.add(filter, { clientId: key, topic: filter, qos: 1 });
    const qlobberMatchAll = (): void => {
      for (let i = 0; i < MATCHES; i++) visits += qlobber.match(topics[i & (topics.length - 1)]).length;
    };
    qlobberMatchAll();
    const qms = best(5, qlobberMatchAll);
    console.log(`  same with Aedes's QlobberSub:     ${((qms * 1e6) / MATCHES).toFixed(0)} ns/match (${(qms / ms).toFixed(1)}x the time)`);
  }
  ms = best(5, matchAll(topics.slice(0, 64)));
  console.log(`  match, 64 hot topics:              ${((ms * 1e6) / MATCHES).toFixed(0)} ns/match`);
  ms = best(5, matchAll(['$SYS/broker/clients/connected']));
  console.log(`  match, a "$SYS" topic:             ${((ms * 1e6) / MATCHES).toFixed(0)} ns/match (wildcard roots skipped)`);

  ms = best(3, () => {
    for (let i = 0; i < 100_000; i++) tree.add(`churn/${i}/x`, 'c', 0);
    for (let i = 0; i < 100_000; i++) tree.remove(`churn/${i}/x`, 'c');
  });
  console.log(`  100,000 add + 100,000 remove: ${ms.toFixed(0)} ms; ${tree.countNodes()} nodes after (all pruned)`);
}

function benchRetained(shape: string, topicOf: (i: number) => string, filters: string[]): void {
  const N = 1_000_000;
  let index = new TopicIndex<number>();
  const before = heapMB();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) index.set(topicOf(i), i);
  const buildMs = Number(process.hrtime.bigint() - start) / 1e6;
  index.set('$SYS/broker/uptime', 0);
  const heap = heapMB() - before;
  const sample = topicOf(N - 1);
  const stringBytes = 24 + Math.ceil(sample.length / 8) * 8; // a one-byte string: header + chars, 8-aligned
  console.log(`TopicIndex, ${shape}: ${index.size} topics (e.g. ${sample}), ${index.countNodes()} nodes, built in ${buildMs.toFixed(0)} ms`);
  console.log(`  heap ${heap.toFixed(0)} MB = ${((heap * 1048576) / index.size).toFixed(0)} bytes/topic, of which ~${stringBytes} ` +
    'are the topic string itself (shared with the stored message)');

  for (const filter of filters) {
    visits = 0;
    const runs = filter === '#' ? 5 : 20;
    const ms = best(runs, () => index.match(filter, count));
    console.log(`  match('${filter}'): ${visits / runs} topics in ${ms.toFixed(2)} ms`);
  }

  if (QlobberTrue !== undefined) {
    // Aedes answers a SUBSCRIBE's retained lookup by testing every stored topic against the filter.
    const filter = filters[filters.length - 2];
    const topics = [...index.entries()].map(([topic]) => topic);
    const ms = best(3, () => {
      const qlobber = new QlobberTrue(qlobberOptions);
      qlobber.add(filter);
      for (const topic of topics) if (qlobber.test(topic)) visits++;
    });
    const ours = best(20, () => index.match(filter, count));
    console.log(`  '${filter}' the Aedes way (test every stored topic): ${ms.toFixed(1)} ms; match(): ${ours.toFixed(3)} ms`);
  }

  const lookups = Array.from({ length: 4096 }, () => topicOf(rand(N)));
  const getMs = best(5, () => {
    let s = 0;
    for (let i = 0; i < 500_000; i++) s += index.get(lookups[i & 4095]) ?? 0;
    if (s === -1) console.log(s);
  });
  console.log(`  get: ${((getMs * 1e6) / 500_000).toFixed(0)} ns/lookup`);
  const delMs = best(1, () => {
    for (let i = 0; i < N; i += 100) index.delete(topicOf(i));
  });
  console.log(`  delete 10,000: ${delMs.toFixed(0)} ms, ${index.size} left`);
  index = new TopicIndex<number>();
}

if (!gc) console.log('(run with --expose-gc for heap numbers)');
benchSubscriptions();
// Bushy: factory/{10}/line/{10}/machine/{100}/m{100}; every inner node has 10 to 100 children.
const bushy = (i: number): string =>
  `factory/${i % 10}/line/${Math.floor(i / 10) % 10}/machine/${Math.floor(i / 100) % 100}/m${Math.floor(i / 10000)}`;
benchRetained('bushy', bushy, ['#', 'factory/3/#', 'factory/+/line/+/machine/42/m7', 'factory/1/line/2/machine/+/+', '+/+/+/+/+/+/m99']);
// Sparse: devices/{1,000,000}/status; each device node has a single child.
benchRetained('one child per device', (i) => `devices/${i}/status`, ['#', 'devices/+/status', 'devices/4242/#', '+/+/+']);
