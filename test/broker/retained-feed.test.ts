// Retained messages of a new subscription sent as the window allows (src/broker/retained-feed.ts),
// MQTT 3.1.1: they keep their place between what was queued before and what comes after.

import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, publish } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';
import type { BrokerOptions } from '../../src/broker/options.js';
import type { Packet, PublishPacket, QoS } from '../../src/protocol/packets.js';

const subscription = (topicFilter: string, qos: QoS) => ({ topicFilter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 as const });

/** Takes `count` PUBLISH packets one at a time, acknowledging each only after it arrived. */
async function receiveOneByOne(client: RawClient, count: number): Promise<PublishPacket[]> {
  const got: PublishPacket[] = [];
  while (got.length < count) {
    const packet: Packet = await client.next();
    if (packet.type !== 3) continue;
    got.push(packet);
    if (packet.qos === 1) client.send({ type: 4, packetId: packet.packetId!, reasonCode: 0 });
  }
  return got;
}

const label = (p: PublishPacket): string => `${p.topic}=${p.payload.toString()}${p.retain ? ' (retained)' : ''}`;

describe('MQTT 3.1.1 retained messages sent as the window allows', () => {
  let b: TestBroker;
  /** One message in flight at a time, retained ones too, so the rest wait in the queue. */
  const start = async (extra: BrokerOptions): Promise<void> => {
    b = await startBroker({ maxInflight: 1, maxInflightRetained: 1, ...extra });
  };
  afterEach(async () => {
    await b.close();
  });

  const retain = async (count: number): Promise<void> => {
    const pub = await connect(b.url);
    for (let i = 0; i < count; i++) pub.publish(`feed/${i}`, `old ${i}`, { qos: 1, retain: true });
    await publish(pub, 'feed/sync', 'x', { qos: 1 });
    await end(pub);
  };

  test('[MQTT-3.3.1-6] [MQTT-4.6.0-6] (3.1.1) messages queued before the subscription go first, retained ones next, new values of those topics last', async () => {
    await start({});
    await retain(20);
    const sub = await RawClient.connect(b.port, { clientId: 'feed-order' });
    sub.send({ type: 8, packetId: 1, subscriptions: [subscription('live/x', 1)] });
    assert.equal((await sub.next()).type, 9);
    const pub = await connect(b.url);
    // One in flight (window 1, not acknowledged yet), two queued.
    for (const n of [1, 2, 3]) await publish(pub, 'live/x', `live ${n}`, { qos: 1 });
    sub.send({ type: 8, packetId: 2, subscriptions: [subscription('feed/#', 1)] });
    await until(() => b.broker.core.sessions.get('feed-order')!.queue.length === 3, 5000, 'the two queued messages and the feed');
    // While the retained messages wait: a new value of the first and the last of them.
    await publish(pub, 'feed/0', 'new 0', { retain: true, qos: 1 });
    await publish(pub, 'feed/19', 'new 19', { retain: true, qos: 1 });
    const got = (await receiveOneByOne(sub, 3 + 20 + 2)).map(label);
    assert.deepEqual(got.slice(0, 3), ['live/x=live 1', 'live/x=live 2', 'live/x=live 3']);
    assert.deepEqual(
      got.slice(3, 23).sort(),
      Array.from({ length: 20 }, (_, i) => `feed/${i}=old ${i} (retained)`).sort(),
      'the retained values as they were at SUBSCRIBE, each once',
    );
    assert.deepEqual(got.slice(23), ['feed/0=new 0', 'feed/19=new 19']);
    await end(pub);
    sub.close();
  });

  test('a subscription gets every retained match even when they outnumber the session queue bound', async () => {
    await start({ maxQueuedMessages: 10 });
    await retain(200);
    const sub = await RawClient.connect(b.port, { clientId: 'feed-bound' });
    sub.send({ type: 8, packetId: 1, subscriptions: [subscription('feed/#', 1)] });
    const got = await receiveOneByOne(sub, 200);
    assert.equal(new Set(got.map((p) => p.topic)).size, 200);
    assert.equal(b.broker.core.stats.messagesDropped, 0);
    sub.close();
  });

  test('drop-oldest with retained messages at the head of a full queue drops the oldest retained one', async () => {
    await start({ maxQueuedMessages: 2, queueFullPolicy: 'drop-oldest' });
    await retain(5);
    const sub = await RawClient.connect(b.port, { clientId: 'feed-drop' });
    sub.send({ type: 8, packetId: 1, subscriptions: [subscription('feed/#', 1), subscription('live/#', 1)] });
    const first = (await receiveOneByOne(sub, 1))[0]!;
    // Now: 1 in flight, the feed (4 left) queued. A live message fills the queue (2 entries);
    // the next one pushes the oldest retained message out.
    const pub = await connect(b.url);
    await publish(pub, 'live/a', 'a', { qos: 1 });
    await publish(pub, 'live/b', 'b', { qos: 1 });
    const rest = (await receiveOneByOne(sub, 5)).map(label);
    assert.equal(b.broker.core.stats.messagesDropped, 1);
    assert.equal(rest.filter((l) => l.endsWith('(retained)')).length, 3, `${label(first)} then ${rest.join(', ')}`);
    assert.deepEqual(rest.slice(3), ['live/a=a', 'live/b=b']);
    await end(pub);
    sub.close();
  });
});
