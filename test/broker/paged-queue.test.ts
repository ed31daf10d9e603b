// Paged session queues (MQTT 3.1.1 and 5.0 alike): with the SQLite store, a persistent
// session's queued messages past its in-memory window live only in the store and are read back
// in order when the window has room. These tests use a tiny window so every page boundary is
// crossed with few messages, plus one run at the default bound of 100,000 messages.

import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient, receiveAcking } from '../helpers/raw-client.js';
import { WindowedPublisher, type Outbound } from '../helpers/windowed-publisher.js';
import { until } from '../helpers/wait.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { BrokerOptions } from '../../src/broker/options.js';
import type { QoS } from '../../src/protocol/packets.js';

const subscription = (topicFilter: string, qos: QoS) => ({ topicFilter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 as const });

/** Publishes `count` numbered messages (payload = the number) and waits until all are acknowledged. */
async function publishNumbered(port: number, count: number, qos: (n: number) => 1 | 2, topic = 'pq/t'): Promise<void> {
  let n = 0;
  const source: Iterator<Outbound> = {
    next: () => (n < count ? { done: false, value: { id: n, topic, payload: Buffer.from(String(n++)), qos: qos(n), retain: false } } : { done: true, value: undefined }),
  };
  const publisher = new WindowedPublisher({ port, clientId: `pub-${Math.random().toString(36).slice(2)}`, source, window: 200 });
  await publisher.start();
  await publisher.settled(60_000);
  await publisher.end();
}

const numbers = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('paged session queues (SQLite store)', () => {
  let dir: string;
  let store: SqliteStore;
  let b: TestBroker;
  const start = async (options: BrokerOptions = {}): Promise<void> => {
    store = SqliteStore.open({ path: join(dir, 'midge.db') });
    b = await startBroker({ store, queueWindow: 5, ...options });
  };
  const session = (clientId: string) => b.broker.core.sessions.get(clientId)!;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'midge-paged-'));
  });
  afterEach(async () => {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A persistent subscriber to pq/# that then goes away. */
  const subscribeAndLeave = async (clientId: string, qos: QoS, version: 4 | 5 = 4): Promise<void> => {
    const sub = await RawClient.connect(b.port, { clientId, cleanStart: false, protocolVersion: version, properties: version === 5 ? { sessionExpiryInterval: 3600 } : undefined });
    sub.send({ type: 8, packetId: 1, subscriptions: [subscription('pq/#', qos)] });
    assert.equal((await sub.next()).type, 9);
    sub.send({ type: 14, reasonCode: 0 });
    await sub.waitClosed();
  };

  test('[MQTT-3.1.2-5] (3.1.1) [MQTT-4.6.0-6] (3.1.1) an offline session keeps its queue in the store only, and gets all of it in order on return', async () => {
    await start();
    await subscribeAndLeave('offline', 1);
    await publishNumbered(b.port, 300, () => 1);
    assert.equal(session('offline').queue.length, 0, 'no queued message held in memory');
    assert.equal(session('offline').queue.backlog, 300);
    const back = await RawClient.connect(b.port, { clientId: 'offline', cleanStart: false });
    assert.deepEqual(await receiveAcking(back, 300), numbers(0, 300));
    await until(() => session('offline').queuedCount === 0 && session('offline').inflight.size === 0);
    back.close();
  });

  test('[MQTT-4.3.3-2] (3.1.1) QoS 2 messages read back from the store arrive exactly once', async () => {
    await start({ maxInflight: 3 });
    await subscribeAndLeave('qos2', 2);
    await publishNumbered(b.port, 120, (n) => (n % 2 === 0 ? 2 : 1));
    const back = await RawClient.connect(b.port, { clientId: 'qos2', cleanStart: false });
    const got = await receiveAcking(back, 120);
    assert.deepEqual([...got].sort((x, y) => x - y), numbers(0, 120));
    // Same topic, same QoS: published order.
    assert.deepEqual(got.filter((n) => n % 2 === 1), numbers(0, 120).filter((n) => n % 2 === 1));
    // The last PUBRELs: completed, and nothing more arrives.
    while (session('qos2').inflight.size > 0) {
      await until(() => back.packets.length > 0 || session('qos2').inflight.size === 0);
      if (back.packets.length === 0) break;
      const packet = await back.next();
      assert.equal(packet.type, 6, 'only PUBRELs are left');
      if (packet.type === 6) back.send({ type: 7, packetId: packet.packetId, reasonCode: 0 });
    }
    assert.equal(session('qos2').queuedCount, 0);
    back.close();
  });

  test('[MQTT-3.1.2-5] (v5) a session resumed with Session Expiry Interval 0 gets all of its queue, the part only in the store included', async () => {
    await start();
    await subscribeAndLeave('resume-0', 1, 5);
    await publishNumbered(b.port, 120, () => 1);
    assert.equal(session('resume-0').queue.backlog, 120);
    // The session now ends with this connection, and the store forgets it at once.
    const back = await RawClient.connect(b.port, { clientId: 'resume-0', cleanStart: false, protocolVersion: 5, properties: { sessionExpiryInterval: 0 } });
    assert.deepEqual(await receiveAcking(back, 120), numbers(0, 120));
    await until(() => session('resume-0').queuedCount === 0 && session('resume-0').inflight.size === 0);
    back.close();
    await until(() => !b.broker.core.sessions.has('resume-0'), 3000, 'the session to end with its connection');
  });

  test('an online consumer that falls behind holds only its window in memory, and loses nothing', async () => {
    await start({ maxInflight: 2 });
    const sub = await RawClient.connect(b.port, { clientId: 'slow', cleanStart: false });
    sub.send({ type: 8, packetId: 1, subscriptions: [subscription('pq/#', 1)] });
    assert.equal((await sub.next()).type, 9);
    // Nothing is acknowledged yet: 2 in flight, 5 in the window, the rest in the store.
    await publishNumbered(b.port, 100, () => 1);
    assert.equal(session('slow').inflight.size, 2);
    assert.ok(session('slow').queue.length <= 5, `window holds ${session('slow').queue.length}`);
    assert.equal(session('slow').queuedCount, 98);
    assert.deepEqual(await receiveAcking(sub, 100), numbers(0, 100));
    await until(() => session('slow').queuedCount === 0);
    sub.close();
  });

  test('the queue left in the store survives a restart and is read from there, in order', async () => {
    await start();
    await subscribeAndLeave('restart', 1, 5);
    await publishNumbered(b.port, 200, () => 1);
    await b.close();
    await start();
    assert.equal(session('restart').queue.length, 0);
    assert.equal(session('restart').queue.backlog, 200);
    const back = await RawClient.connect(b.port, { clientId: 'restart', cleanStart: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    assert.deepEqual(await receiveAcking(back, 200), numbers(0, 200));
    await until(() => session('restart').queuedCount === 0 && session('restart').inflight.size === 0);
    back.close();
    await b.close();
    await start();
    assert.equal(session('restart').queuedCount, 0, 'acknowledged messages are gone from the store');
  });

  test('the queue bound counts the messages in the store: drop-new keeps the oldest', async () => {
    await start({ maxQueuedMessages: 20 });
    await subscribeAndLeave('bounded', 1);
    await publishNumbered(b.port, 50, () => 1);
    assert.equal(session('bounded').queuedCount, 20);
    assert.equal(b.broker.core.stats.messagesDropped, 30);
    const back = await RawClient.connect(b.port, { clientId: 'bounded', cleanStart: false });
    assert.deepEqual(await receiveAcking(back, 20), numbers(0, 20));
    back.close();
  });

  test('the queue bound counts the messages in the store: drop-oldest keeps the newest', async () => {
    await start({ maxQueuedMessages: 20, queueFullPolicy: 'drop-oldest' });
    await subscribeAndLeave('newest', 1);
    await publishNumbered(b.port, 150, () => 1);
    assert.equal(session('newest').queuedCount, 20);
    const back = await RawClient.connect(b.port, { clientId: 'newest', cleanStart: false });
    assert.deepEqual(await receiveAcking(back, 20), numbers(130, 150));
    back.close();
  });

  test('a session with the default bound queues 100,000 messages offline without holding them in memory', async () => {
    await start({ queueWindow: undefined });
    await subscribeAndLeave('big', 1);
    const before = process.memoryUsage().heapUsed;
    await publishNumbered(b.port, 100_000, () => 1);
    assert.equal(session('big').queue.length, 0);
    assert.equal(session('big').queue.backlog, 100_000);
    const grown = process.memoryUsage().heapUsed - before;
    const back = await RawClient.connect(b.port, { clientId: 'big', cleanStart: false });
    const got = await receiveAcking(back, 100_000, 120_000);
    assert.equal(got.length, 100_000);
    const wrong = got.findIndex((n, i) => n !== i);
    assert.equal(wrong, -1, `in published order (at ${wrong}: ${got.slice(wrong - 3, wrong + 5).join(',')}; 100 at ${got.indexOf(100)}, n=${new Set(got).size})`);
    // Reported, not asserted: heap figures depend on when the collector last ran.
    console.log(`heap grew ${(grown / 1048576).toFixed(1)} MiB while 100,000 messages were queued`);
    back.close();
  });
});
