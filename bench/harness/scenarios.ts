// The scenarios, and how their clients are spread over the generator's workers.

import type { QoS } from '../../src/protocol/packets.js';
import type { PublisherSpec, SubscriberSpec } from './messages.js';
import type { Sizes } from './options.js';

export type ScenarioKind = 'flow' | 'connections' | 'retained';

export interface Scenario {
  name: string;
  kind: ScenarioKind;
  qos: QoS;
  /** What the throughput column counts. */
  unit: 'msg/s' | 'conn/s';
  describe(sizes: Sizes): string;
}

export const SCENARIOS: Scenario[] = [
  { name: 'fan-in-qos0', kind: 'flow', qos: 0, unit: 'msg/s', describe: (s) => `${s.fanInPublishers} publishers -> 1 subscriber of bench/in/+, QoS 0, max rate (each at most ${s.qos0Ahead} ahead)` },
  { name: 'fan-in-qos1', kind: 'flow', qos: 1, unit: 'msg/s', describe: (s) => `${s.fanInPublishers} publishers -> 1 subscriber of bench/in/+, QoS 1, window ${s.window}` },
  { name: 'pairs-qos0', kind: 'flow', qos: 0, unit: 'msg/s', describe: (s) => `${s.pairs} publisher/subscriber pairs, own topics, QoS 0, max rate (at most ${s.qos0Ahead} ahead)` },
  { name: 'pairs-qos1', kind: 'flow', qos: 1, unit: 'msg/s', describe: (s) => `${s.pairs} pairs, QoS 1, window ${s.window}` },
  { name: 'pairs-qos2', kind: 'flow', qos: 2, unit: 'msg/s', describe: (s) => `${s.pairs} pairs, QoS 2, window ${s.window}` },
  { name: 'durable-qos0', kind: 'flow', qos: 0, unit: 'msg/s', describe: (s) => `pairs-qos0 with persistent subscribers (clean session 0, stable client ids): ${s.pairs} pairs, QoS 0, max rate (at most ${s.qos0Ahead} ahead)` },
  { name: 'durable-qos1', kind: 'flow', qos: 1, unit: 'msg/s', describe: (s) => `pairs-qos1 with persistent subscribers (clean session 0, stable client ids): ${s.pairs} pairs, QoS 1, window ${s.window}` },
  { name: 'fan-out', kind: 'flow', qos: 0, unit: 'msg/s', describe: (s) => `1 publisher -> ${s.fanOutSubscribers} subscribers of one topic, QoS 0, at most ${s.fanOutWindow} messages ahead of the slowest subscriber; msg/s counts deliveries` },
  { name: 'latency-qos0', kind: 'flow', qos: 0, unit: 'msg/s', describe: (s) => `${s.latencyPairs} pairs at ${s.rate} msg/s in total, QoS 0` },
  { name: 'latency-qos1', kind: 'flow', qos: 1, unit: 'msg/s', describe: (s) => `${s.latencyPairs} pairs at ${s.rate} msg/s in total, QoS 1` },
  {
    name: 'slow-qos1',
    kind: 'flow',
    qos: 1,
    unit: 'msg/s',
    describe: (s) =>
      `${s.slowPublishers} publishers -> a subscriber of bench/slow/+ and a slow one that reads ${s.slowRate} msg/s, QoS 1; each publisher at most ${s.slowAhead} ahead of the slow one (the broker queues them); msg/s counts deliveries`,
  },
  {
    name: 'slow-qos1-durable',
    kind: 'flow',
    qos: 1,
    unit: 'msg/s',
    describe: (s) =>
      `slow-qos1 (${s.slowPublishers} publishers, the slow subscriber at ${s.slowRate} msg/s) with the slow subscriber in a persistent session (clean session 0): what the broker holds for it is stored, and Midge with SQLite keeps only its queue window (--queue-window) in memory, the rest in the store`,
  },
  { name: 'connections', kind: 'connections', qos: 0, unit: 'conn/s', describe: (s) => `${s.connections} idle clients connect (100 at a time); connects/s and broker memory per connection` },
  { name: 'retained-qos0', kind: 'retained', qos: 0, unit: 'msg/s', describe: (s) => `${s.retained} retained topics, then a QoS 0 subscriber of bench/ret/# gets them all` },
  { name: 'retained-qos1', kind: 'retained', qos: 1, unit: 'msg/s', describe: (s) => `${s.retained} retained topics, then a QoS 1 subscriber of bench/ret/# gets them all` },
];

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);

export function scenarioByName(name: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (scenario === undefined) throw new Error(`unknown scenario ${name}`);
  return scenario;
}

/** Clients that must live in the same worker, and a rough cost to balance workers by. */
interface Group {
  publishers: PublisherSpec[];
  subscribers: SubscriberSpec[];
  load: number;
  /** Publishers that send all they may at once; kept apart from subscribers with 2+ workers. */
  greedy?: boolean;
}

export interface WorkerShare {
  publishers: PublisherSpec[];
  subscribers: SubscriberSpec[];
}

/** Receiving (decoding) a message costs about twice as much as sending a templated one. */
const SEND = 1;
const RECEIVE = 2;

function groups(scenario: Scenario, sizes: Sizes): Group[] {
  const qos = scenario.qos;
  const window = sizes.window;
  const ahead = qos === 0 ? sizes.qos0Ahead : 0;
  const greedy = qos === 0;
  const out: Group[] = [];
  switch (scenario.name) {
    case 'fan-in-qos0':
    case 'fan-in-qos1': {
      const n = sizes.fanInPublishers;
      const ids = Array.from({ length: n }, (_, i) => i);
      const paces = ids.map((i) => ({ publisher: i, slot: i }));
      out.push({ publishers: [], subscribers: [{ id: 0, filter: 'bench/in/+', qos, expects: ids, paces }], load: n * RECEIVE });
      for (const i of ids) out.push({ publishers: [{ id: i, topic: `bench/in/${i}`, qos, mode: 'max', window, ahead, paceSlots: [i] }], subscribers: [], load: SEND, greedy });
      break;
    }
    case 'pairs-qos0':
    case 'pairs-qos1':
    case 'pairs-qos2':
    case 'durable-qos0':
    case 'durable-qos1': {
      // durable-*: the subscribers keep persistent sessions, so a broker with a store has to
      // write each QoS 1 delivery before it acknowledges the PUBLISH to the publisher.
      const persistent = scenario.name.startsWith('durable-');
      for (let i = 0; i < sizes.pairs; i++) {
        out.push({
          publishers: [{ id: i, topic: `bench/pair/${i}`, qos, mode: 'max', window, ahead, paceSlots: [i] }],
          subscribers: [{ id: i, filter: `bench/pair/${i}`, qos, expects: [i], paces: [{ publisher: i, slot: i }], persistent }],
          load: SEND + RECEIVE,
          greedy,
        });
      }
      break;
    }
    case 'fan-out': {
      // Paced by every subscriber: the publisher is never more than the window ahead of the slowest.
      const n = sizes.fanOutSubscribers;
      for (let i = 0; i < n; i++) {
        out.push({ publishers: [], subscribers: [{ id: i, filter: 'bench/fanout', qos, expects: [0], paces: [{ publisher: 0, slot: i }] }], load: RECEIVE });
      }
      const paceSlots = Array.from({ length: n }, (_, i) => i);
      out.push({ publishers: [{ id: 0, topic: 'bench/fanout', qos, mode: 'max', window, ahead: sizes.fanOutWindow, paceSlots }], subscribers: [], load: SEND });
      break;
    }
    case 'slow-qos1':
    case 'slow-qos1-durable': {
      // Both subscribers pace every publisher: the fast one by the window, the slow one by
      // `slowAhead`, so the broker holds up to that many messages per publisher for the slow
      // one while the fast one keeps up, and the run drains in a bounded time.
      const n = sizes.slowPublishers;
      const persistent = scenario.name.endsWith('-durable');
      const ids = Array.from({ length: n }, (_, i) => i);
      out.push({ publishers: [], subscribers: [{ id: 0, filter: 'bench/slow/+', qos, expects: ids, paces: ids.map((i) => ({ publisher: i, slot: i })) }], load: n * RECEIVE });
      out.push({
        publishers: [],
        subscribers: [{ id: 1, filter: 'bench/slow/+', qos, expects: ids, paces: ids.map((i) => ({ publisher: i, slot: n + i })), maxRate: sizes.slowRate, persistent }],
        load: RECEIVE,
      });
      for (const i of ids) {
        out.push({ publishers: [{ id: i, topic: `bench/slow/${i}`, qos, mode: 'max', window, ahead: sizes.slowAhead, paceSlots: [i, n + i] }], subscribers: [], load: SEND });
      }
      break;
    }
    case 'latency-qos0':
    case 'latency-qos1': {
      const ratePerSec = sizes.rate / sizes.latencyPairs;
      for (let i = 0; i < sizes.latencyPairs; i++) {
        out.push({
          publishers: [{ id: i, topic: `bench/lat/${i}`, qos, mode: 'rate', window: Math.max(window, 100), ratePerSec, ahead: 0, paceSlots: [] }],
          subscribers: [{ id: i, filter: `bench/lat/${i}`, qos, expects: [i], paces: [] }],
          load: SEND + RECEIVE,
        });
      }
      break;
    }
    default:
      throw new Error(`${scenario.name} is not a message-flow scenario`);
  }
  return out;
}

/**
 * Spreads a flow scenario's clients over `workers` workers, heaviest groups first. Publishers
 * that are not paced by an ack or a probe (QoS 0 at max rate) would starve subscribers sharing
 * their event loop, so with two or more workers they get workers of their own.
 */
export function planFlow(scenario: Scenario, sizes: Sizes, workers: number): WorkerShare[] {
  const shares: (WorkerShare & { load: number })[] = Array.from({ length: workers }, () => ({ publishers: [], subscribers: [], load: 0 }));
  const all = groups(scenario, sizes);
  const separate = workers >= 2 && all.some((g) => g.greedy === true);
  const receivers = Math.ceil(workers / 2);
  const sorted = separate
    ? all.flatMap((g): Group[] => (g.publishers.length > 0 && g.subscribers.length > 0
      ? [{ publishers: g.publishers, subscribers: [], load: SEND * g.publishers.length }, { publishers: [], subscribers: g.subscribers, load: RECEIVE * g.subscribers.length }]
      : [g]))
    : all;
  sorted.sort((a, b) => b.load - a.load);
  for (const group of sorted) {
    const candidates = !separate ? shares : group.publishers.length > 0 ? shares.slice(receivers) : shares.slice(0, receivers);
    let target = candidates[0];
    for (const share of candidates) if (share.load < target.load) target = share;
    target.publishers.push(...group.publishers);
    target.subscribers.push(...group.subscribers);
    target.load += group.load;
  }
  return shares.map(({ publishers, subscribers }) => ({ publishers, subscribers }));
}

/** Splits n into `parts` near-equal counts. */
export function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}
