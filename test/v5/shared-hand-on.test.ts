// MQTT 5.0 shared subscriptions (section 4.8.2): what a member has not received when its
// connection or its session ends goes to another member of the group, wherever the broker kept
// it: in flight, in the session's in-memory window, in the store's backlog past that window,
// and across a restart. The spec allows it ("the Server MAY send the message to another Client
// subscribed to the same Shared Subscription"); a broker that keeps data safe must, or a member
// that goes away takes its share of the messages with it.

import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { receiveAcking } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { BrokerOptions } from '../../src/broker/options.js';
import { elapse, publishRaw, rawV5, subscribeRaw, subscription, uniqueId } from '../helpers/v5.js';
import { connectWithInbox, drop, end, subscribe } from '../helpers/mqttjs.js';

const numbers = (count: number): number[] => Array.from({ length: count }, (_, i) => i);
const sorted = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);

async function publishNumbered(port: number, topic: string, count: number): Promise<void> {
  const pub = await rawV5(port);
  for (let i = 0; i < count; i++) await publishRaw(pub, topic, String(i), 1);
  pub.close();
}

describe('MQTT 5 shared subscriptions: a member that goes away strands nothing', () => {
  let dir: string;
  let b: TestBroker | undefined;
  const start = async (options: BrokerOptions = {}): Promise<TestBroker> => {
    b = await startBroker({ store: SqliteStore.open({ path: join(dir, 'midge.db') }), queueWindow: 5, ...options });
    return b;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'midge-share-'));
  });
  afterEach(async () => {
    await b?.close();
    b = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  test('(v5) a persistent member cut off while behind: its messages in flight, in its window and in the store\'s backlog all go to another member, each once', async () => {
    const broker = await start({ maxInflight: 2 });
    const aId = uniqueId('hand-a');
    const a = await rawV5(broker.port, { clientId: aId, cleanStart: true, properties: { sessionExpiryInterval: 3600 } });
    await subscribeRaw(a, subscription('$share/g/ho/t', 1));
    // A acknowledges nothing: 2 in flight, 5 in its window, the rest in the store only.
    await publishNumbered(broker.port, 'ho/t', 40);
    const sessionA = broker.broker.core.sessions.get(aId)!;
    assert.equal(sessionA.inflight.size, 2);
    assert.ok(sessionA.queue.backlog > 0, 'part of the queue is in the store only');
    const other = await rawV5(broker.port);
    await subscribeRaw(other, subscription('$share/g/ho/t', 1));
    a.close();
    assert.deepEqual(sorted(await receiveAcking(other, 40)), numbers(40));
    await until(() => sessionA.client === undefined && sessionA.queuedCount === 0 && sessionA.inflight.size === 0, 3000, 'A to owe nothing');
    other.close();
  });

  test('(v5) MQTT.js members: one stalls with messages in flight, queued and in the store, and is cut off; the other gets them all, each once', async () => {
    const broker = await start({ maxInflight: 2 });
    const aId = uniqueId('js-a');
    const { client: a, inbox: aInbox } = await connectWithInbox(broker.url, { clientId: aId, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
    // A takes its first message and never finishes handling it: MQTT.js sends no PUBACK and reads no further.
    a.handleMessage = (_packet, _done) => undefined;
    await subscribe(a, '$share/js/hj/t', { qos: 1 });
    await publishNumbered(broker.port, 'hj/t', 30);
    const sessionA = broker.broker.core.sessions.get(aId)!;
    assert.ok(sessionA.queue.backlog > 0, 'part of A\'s queue is in the store only');
    const { client: other, inbox } = await connectWithInbox(broker.url, { protocolVersion: 5 });
    await subscribe(other, '$share/js/hj/t', { qos: 1 });
    drop(a);
    const got = await inbox.waitFor(30, 10_000);
    assert.deepEqual(sorted(got.map((m) => Number(m.payload.toString()))), numbers(30));
    // What A saw it never acknowledged: those went to the other member too.
    assert.ok(aInbox.messages.length <= 2, `A saw ${aInbox.messages.length}`);
    await end(other);
  });

  test('(v5) a lone member cut off while behind keeps its whole queue, and the store\'s backlog is not read for a group with nobody else', async () => {
    const broker = await start({ maxInflight: 2 });
    const store = broker.broker.core.store;
    let sharedReads = 0;
    const readQueuedShared = store.readQueuedShared.bind(store);
    store.readQueuedShared = (...args) => {
      sharedReads++;
      return readQueuedShared(...args);
    };
    const aId = uniqueId('lone-a');
    const a = await rawV5(broker.port, { clientId: aId, properties: { sessionExpiryInterval: 3600 } });
    await subscribeRaw(a, subscription('$share/lone/hl/t', 1));
    await publishNumbered(broker.port, 'hl/t', 30);
    assert.ok(broker.broker.core.sessions.get(aId)!.queue.backlog > 0);
    a.close();
    await until(() => broker.broker.core.sessions.get(aId)!.client === undefined, 3000, 'A offline');
    assert.equal(sharedReads, 0, 'no other member: the backlog is not read');
    const back = await rawV5(broker.port, { clientId: aId, cleanStart: false, properties: { sessionExpiryInterval: 3600 } });
    assert.deepEqual(sorted(await receiveAcking(back, 30)), numbers(30));
    back.close();
  });

  test('(v5) a member whose session expired while the broker was down hands its queued messages to the group at the next start', async () => {
    let broker = await start();
    // A first: it is read back before B, whose session must be back when A's ends.
    const aId = uniqueId('expire-a');
    const bId = uniqueId('expire-b');
    const a = await rawV5(broker.port, { clientId: aId, properties: { sessionExpiryInterval: 1 } });
    await subscribeRaw(a, subscription('$share/x/he/t', 1));
    const bClient = await rawV5(broker.port, { clientId: bId, properties: { sessionExpiryInterval: 3600 } });
    await subscribeRaw(bClient, subscription('$share/x/he/t', 1));
    a.send({ type: 14, reasonCode: 0 });
    bClient.send({ type: 14, reasonCode: 0 });
    await a.waitClosed();
    await bClient.waitClosed();
    // Both offline: the group's messages are queued to A and B in turn.
    await publishNumbered(broker.port, 'he/t', 20);
    const queuedA = broker.broker.core.sessions.get(aId)!.queuedCount;
    assert.ok(queuedA > 0 && queuedA < 20, `A holds ${queuedA} of them`);
    await broker.close();
    await elapse(1200); // A's session expiry passes while the broker is down
    broker = await start();
    const core = broker.broker.core;
    await until(() => !core.sessions.has(aId), 3000, 'A\'s session to end after the start');
    const back = await rawV5(broker.port, { clientId: bId, cleanStart: false, properties: { sessionExpiryInterval: 0 } });
    assert.deepEqual(sorted(await receiveAcking(back, 20)), numbers(20));
    back.close();
  });
});

describe('MQTT 5 shared subscriptions: a member whose session ends (memory store)', () => {
  let b: TestBroker;
  beforeEach(async () => {
    b = await startBroker();
  });
  afterEach(async () => {
    await b.close();
  });

  test('(v5) the messages queued for an offline member whose session expires go to a member online by then', async () => {
    const aId = uniqueId('mem-a');
    const a = await rawV5(b.port, { clientId: aId, properties: { sessionExpiryInterval: 1 } });
    await subscribeRaw(a, subscription('$share/m/hm/t', 1));
    a.send({ type: 14, reasonCode: 0 });
    await a.waitClosed();
    // A is the only member: it queues everything while offline.
    await publishNumbered(b.port, 'hm/t', 10);
    assert.equal(b.broker.core.sessions.get(aId)!.queuedCount, 10);
    const other = await rawV5(b.port);
    await subscribeRaw(other, subscription('$share/m/hm/t', 1));
    // A's expiry: its ten go to the member now online, in the order they were queued.
    assert.deepEqual(await receiveAcking(other, 10, 10_000), numbers(10));
    assert.equal(b.broker.core.sessions.has(aId), false);
    other.close();
  });
});
