// A load-generator worker thread: it owns some of a scenario's clients and answers the main
// thread's requests (see messages.ts). Every wait here has a deadline.

import { parentPort } from 'node:worker_threads';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { QoS } from '../../src/protocol/packets.js';
import { BenchClient, PAYLOAD_HEADER, Publisher, Subscriber, type AckReceiver, type Window } from './bench-client.js';
import { Clock, sleep } from './clock.js';
import { Histogram } from './histogram.js';
import { threadCpuSeconds } from './proc.js';
import type {
  ConnectionsRequest,
  ExpectRequest,
  FlowCounts,
  RetainedLoadRequest,
  RetainedSubscribeRequest,
  SetupRequest,
  StartRequest,
  WorkerReply,
  WorkerRequest,
} from './messages.js';

const port = parentPort!;

let clock = new Clock(process.hrtime.bigint());
let clients: BenchClient[] = [];
let publishers: Publisher[] = [];
let subscribers: Subscriber[] = [];
let window: Window = { warmupEndUs: Infinity, endUs: Infinity };
let elu: number = 0;
let threadCpuPct = NaN;
let retained: { loader: RetainedLoader; subscriber: Subscriber; count: number } | undefined;

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(reply, (err: unknown) => {
    reply({ op: 'error', message: err instanceof Error ? err.message : String(err) });
  });
});

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  switch (request.op) {
    case 'setup': return setup(request);
    case 'start': return start(request);
    case 'expect': return expect(request);
    case 'connections': return connections(request);
    case 'retained-load': return retainedLoad(request);
    case 'retained-subscribe': return retainedSubscribe(request);
    case 'teardown': return teardown();
  }
}

/** Runs fn over items with at most `limit` running at once. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function errors(): string[] {
  const seen = new Set<string>();
  for (const c of clients) if (c.error !== undefined && seen.size < 10) seen.add(c.error);
  return [...seen];
}

/** Publishers ahead of their pacing subscriber (in any worker), pumped again every millisecond. */
const ahead = new Set<Publisher>();
let aheadTimer: NodeJS.Timeout | undefined;

function pumpAhead(): void {
  aheadTimer = undefined;
  const waiting = [...ahead];
  ahead.clear();
  // A publisher still ahead calls onAhead again, which schedules the one next pass: scheduling
  // here as well would start a second timer every pass, doubling them while publishers wait
  // (a generator thread busy with nothing but timers).
  for (const p of waiting) p.pump();
}

function onAhead(p: Publisher): void {
  if (p.stopped) return;
  ahead.add(p);
  aheadTimer ??= setTimeout(pumpAhead, 1);
}

/**
 * A slow consumer: after each chunk, a subscriber that has read more than `rate` messages per
 * second since its first stops reading until the time for what it has read has come; the
 * broker has to hold the rest.
 */
function throttle(client: BenchClient, subscriber: Subscriber, rate: number): void {
  let resumeTimer: NodeJS.Timeout | undefined;
  client.hooks.afterChunk = () => {
    if (resumeTimer !== undefined || subscriber.received === 0) return;
    const dueUs = subscriber.firstReceiveUs + (subscriber.received / rate) * 1e6;
    const waitMs = (dueUs - clock.nowUs()) / 1000;
    if (waitMs < 1) return;
    client.socket.pause();
    resumeTimer = setTimeout(() => {
      resumeTimer = undefined;
      client.socket.resume();
    }, waitMs);
  };
}

async function setup(request: SetupRequest): Promise<WorkerReply> {
  clock = new Clock(request.epochNs);
  const progress = new Int32Array(request.progress);
  await eachLimited(request.subscribers, request.connectConcurrency, async (spec) => {
    const persistent = spec.persistent === true;
    const client = new BenchClient(persistent ? `bench-durable-s${spec.id}` : `${request.tag}s${spec.id}`, clock, request.port);
    clients.push(client);
    await client.connect(request.timeoutMs, { cleanStart: !persistent });
    // Every run starts a fresh broker (and a fresh data directory): an old session would mean
    // state leaking between runs.
    if (client.sessionPresent) throw new Error(`${client.clientId}: CONNACK says session present on a fresh broker`);
    const subscriber = new Subscriber(client, spec.id, spec.expects, spec.paces, progress);
    subscribers.push(subscriber);
    if (spec.maxRate !== undefined) throttle(client, subscriber, spec.maxRate);
    const granted = await client.subscribe(spec.filter, spec.qos, request.timeoutMs);
    if (granted !== spec.qos) throw new Error(`${client.clientId}: granted QoS ${granted}, asked ${spec.qos}`);
  });
  await eachLimited(request.publishers, request.connectConcurrency, async (spec) => {
    const client = new BenchClient(`${request.tag}p${spec.id}`, clock, request.port);
    clients.push(client);
    await client.connect(request.timeoutMs);
    const publisher = new Publisher(client, spec.id, spec.topic, spec.qos, spec.mode, spec.window, request.payloadSize, spec.ratePerSec ?? 0, spec.ahead, progress, spec.paceSlots);
    publisher.onAhead = onAhead;
    publishers.push(publisher);
  });
  return { op: 'ready' };
}

async function start(request: StartRequest): Promise<WorkerReply> {
  window = { warmupEndUs: request.warmupEndUs, endUs: request.endUs };
  for (const s of subscribers) s.window = window;
  const wait = request.startUs - clock.nowUs();
  if (wait > 0) await sleep(wait / 1000);
  for (const p of publishers) p.start(request.startUs, window);

  let eluStart: EventLoopUtilization | undefined;
  let cpuStart = { cpu: NaN, us: 0 };
  const eluTimer = setTimeout(() => {
    eluStart = performance.eventLoopUtilization();
    cpuStart = { cpu: threadCpuSeconds(), us: clock.nowUs() };
  }, Math.max(0, (request.warmupEndUs - clock.nowUs()) / 1000));

  const paced = publishers.filter((p) => p.mode === 'rate');
  const maxTicks = Math.ceil((request.endUs - request.startUs) / 1000) + 1000;
  for (let tick = 0; tick < maxTicks; tick++) {
    const now = clock.nowUs();
    if (now >= request.endUs) break;
    for (const p of paced) p.paceTo(now);
    await sleep(paced.length > 0 ? 1 : Math.min(50, Math.max(1, (request.endUs - now) / 1000)));
  }
  clearTimeout(eluTimer);
  elu = eluStart === undefined ? NaN : performance.eventLoopUtilization(eluStart).utilization;
  threadCpuPct = ((threadCpuSeconds() - cpuStart.cpu) / ((clock.nowUs() - cpuStart.us) / 1e6)) * 100;
  const sent: Record<number, number> = {};
  for (const p of publishers) {
    p.stop();
    sent[p.id] = p.sent;
  }
  return { op: 'stopped', sent };
}

/** Waits (bounded) until every expected message is in and every publish acked, then tallies. */
async function drain(sent: Record<number, number>, drainMs: number, idleMs: number, subs: Subscriber[], pubs: { settled: boolean; acked: number }[]): Promise<void> {
  const deadline = Date.now() + drainMs;
  let activity = -1;
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    let complete = pubs.every((p) => p.settled);
    let now = 0;
    for (const s of subs) {
      now += s.received;
      if (complete) {
        let expected = 0;
        for (const pub of Object.keys(sent)) if (s.stream(Number(pub)) !== undefined) expected += sent[Number(pub)];
        if (s.unique < expected) complete = false;
      }
    }
    for (const p of pubs) now += p.acked;
    if (complete) return;
    if (now !== activity) {
      activity = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > idleMs) {
      return;
    }
    await sleep(20);
  }
}

function tallyFlow(sent: Record<number, number>, subs: Subscriber[], pubs: { sentInWindow: number; inflight: number }[]): FlowCounts {
  const histogram = new Histogram();
  const counts: FlowCounts = {
    received: 0, receivedInWindow: 0, sentInWindow: 0, expected: 0, unique: 0, lost: 0, duplicates: 0,
    reordered: 0, unexpected: 0, unacked: 0, histogram: histogram.counts, latencyMaxUs: 0, elu, threadCpuPct, errors: errors(),
  };
  for (const s of subs) {
    const t = s.tally(sent);
    counts.received += s.received;
    counts.receivedInWindow += s.receivedInWindow;
    counts.expected += t.expected;
    counts.unique += t.unique;
    counts.duplicates += t.duplicates;
    counts.reordered += t.reordered;
    counts.unexpected += t.unexpected;
    histogram.merge(s.histogram);
  }
  counts.lost = counts.expected - counts.unique;
  counts.latencyMaxUs = histogram.max;
  for (const p of pubs) {
    counts.sentInWindow += p.sentInWindow;
    counts.unacked += p.inflight;
  }
  return counts;
}

async function expect(request: ExpectRequest): Promise<WorkerReply> {
  await drain(request.sent, request.drainMs, request.idleMs, subscribers, publishers);
  return { op: 'result', ...tallyFlow(request.sent, subscribers, publishers) };
}

async function connections(request: ConnectionsRequest): Promise<WorkerReply> {
  clock = new Clock(request.epochNs);
  const histogram = new Histogram();
  const cpuStart = threadCpuSeconds();
  const wallStart = clock.nowUs();
  let firstStartUs = Infinity;
  let lastConnackUs = 0;
  let connected = 0;
  let failed = 0;
  const ids = Array.from({ length: request.count }, (_, i) => i);
  await eachLimited(ids, request.concurrency, async (i) => {
    const startUs = clock.nowUs();
    if (startUs < firstStartUs) firstStartUs = startUs;
    const client = new BenchClient(`${request.tag}c${i}`, clock, request.port);
    clients.push(client);
    try {
      await client.connect(request.timeoutMs);
      const now = clock.nowUs();
      histogram.record(now - startUs);
      if (now > lastConnackUs) lastConnackUs = now;
      connected++;
    } catch {
      failed++;
      client.socket.destroy();
    }
  });
  const threadCpuPct = ((threadCpuSeconds() - cpuStart) / ((clock.nowUs() - wallStart) / 1e6)) * 100;
  return { op: 'connected', firstStartUs, lastConnackUs, connected, failed, histogram: histogram.counts, latencyMaxUs: histogram.max, threadCpuPct, errors: errors() };
}

/** Publishes `count` retained QoS 1 messages on distinct topics, at most `window` unacked. */
class RetainedLoader implements AckReceiver {
  next = 0;
  acked = 0;
  inflight = 0;
  private readonly pending = new Uint8Array(65536);
  private lastId = 0;
  private readonly payload: Buffer;

  constructor(
    readonly client: BenchClient,
    readonly count: number,
    readonly window: number,
    payloadSize: number,
  ) {
    this.payload = Buffer.alloc(Math.max(payloadSize, PAYLOAD_HEADER), 0x2e);
    client.publisher = this;
  }

  get settled(): boolean {
    return this.inflight === 0 && this.next === this.count;
  }

  get sentInWindow(): number {
    return 0;
  }

  pump(): void {
    if (!this.client.open) return;
    const batch: Buffer[] = [];
    const nowUs = this.client.clock.nowUs();
    while (this.inflight < this.window && this.next < this.count) {
      const i = this.next++;
      let id = this.lastId;
      do id = id === 65535 ? 1 : id + 1;
      while (this.pending[id] !== 0);
      this.lastId = id;
      this.pending[id] = 1;
      this.inflight++;
      const payload = Buffer.from(this.payload);
      payload.writeDoubleLE(nowUs, 0);
      payload.writeUInt32LE(0, 8);
      payload.writeUInt32LE(i, 12);
      batch.push(encodePacket({ type: 3, topic: retainedTopic(i), payload, qos: 1, retain: true, dup: false, packetId: id }, 4));
    }
    if (batch.length > 0) this.client.socket.write(Buffer.concat(batch));
  }

  onAck(type: number, packetId: number): void {
    if (type !== 4 || this.pending[packetId] !== 1) {
      this.client.error ??= `${this.client.clientId}: ack type ${type} for packet id ${packetId}`;
      return;
    }
    this.pending[packetId] = 0;
    this.inflight--;
    this.acked++;
  }

  afterChunk(): void {
    this.pump();
  }
}

export function retainedTopic(i: number): string {
  return `bench/ret/${i >>> 10}/${i & 1023}`;
}

async function retainedLoad(request: RetainedLoadRequest): Promise<WorkerReply> {
  clock = new Clock(request.epochNs);
  const pub = new BenchClient(`${request.tag}rp`, clock, request.port);
  const sub = new BenchClient(`${request.tag}rs`, clock, request.port);
  clients.push(pub, sub);
  await Promise.all([pub.connect(request.timeoutMs), sub.connect(request.timeoutMs)]);
  const loader = new RetainedLoader(pub, request.count, request.window, request.payloadSize);
  const subscriber = new Subscriber(sub, 0, [0]);
  retained = { loader, subscriber, count: request.count };
  const started = performance.now();
  loader.pump();
  const deadline = started + request.timeoutMs;
  while (!loader.settled && performance.now() < deadline && pub.open) await sleep(10);
  if (!loader.settled) throw new Error(`retained load: ${loader.acked} of ${request.count} acknowledged (${errors().join('; ') || 'timeout'})`);
  return { op: 'retained-loaded', loadMs: performance.now() - started, acked: loader.acked, errors: errors() };
}

async function retainedSubscribe(request: RetainedSubscribeRequest): Promise<WorkerReply> {
  if (retained === undefined) throw new Error('retained-subscribe before retained-load');
  const { subscriber, count } = retained;
  const origin = clock.nowUs();
  subscriber.originUs = origin;
  subscriber.window = { warmupEndUs: origin, endUs: Infinity };
  const eluStart = performance.eventLoopUtilization();
  const cpuStart = threadCpuSeconds();
  await subscriber.client.subscribe('bench/ret/#', request.qos as QoS, request.timeoutMs);
  const sent = { 0: count };
  await drain(sent, request.timeoutMs, request.idleMs, [subscriber], []);
  elu = performance.eventLoopUtilization(eluStart).utilization;
  threadCpuPct = ((threadCpuSeconds() - cpuStart) / ((clock.nowUs() - origin) / 1e6)) * 100;
  const counts = tallyFlow(sent, [subscriber], []);
  return {
    op: 'retained-result',
    allMs: (subscriber.lastReceiveUs - origin) / 1000,
    firstMs: (subscriber.firstReceiveUs - origin) / 1000,
    maxUnacked: subscriber.client.maxUnackedSeen,
    ...counts,
  };
}

async function teardown(): Promise<WorkerReply> {
  for (const p of publishers) p.stop();
  ahead.clear();
  if (aheadTimer !== undefined) clearTimeout(aheadTimer);
  aheadTimer = undefined;
  const all = clients;
  clients = [];
  publishers = [];
  subscribers = [];
  retained = undefined;
  elu = 0;
  threadCpuPct = NaN;
  await Promise.all(all.map((c) => c.end(3000)));
  return { op: 'clean' };
}
