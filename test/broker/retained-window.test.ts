// The retained window: retained messages sent because of a new subscription go out with up to
// maxInflightRetained unacknowledged (default 1000), live messages with maxInflight (100), and a
// 5.0 client's Receive Maximum caps both. 3.1.1 leaves the in-flight limit to the server.

import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { expectNothingPending, expectPublish, publishRaw, rawV5, subscribeRaw, subscription } from '../helpers/v5.js';
import type { PublishPacket } from '../../src/protocol/packets.js';

/** The next `count` PUBLISH packets, none acknowledged. */
async function take(client: RawClient, count: number): Promise<PublishPacket[]> {
  const got: PublishPacket[] = [];
  while (got.length < count) got.push(await expectPublish(client));
  return got;
}

function ack(client: RawClient, packets: PublishPacket[]): void {
  for (const p of packets) client.send({ type: 4, packetId: p.packetId!, reasonCode: 0 });
}

describe('retained window', () => {
  let b: TestBroker;
  afterEach(async () => {
    await b.close();
  });

  /** A broker with windows of 5 and 40, and `count` retained QoS 1 messages under rw/. */
  const start = async (count: number): Promise<void> => {
    b = await startBroker({ maxInflight: 5, maxInflightRetained: 40 });
    const pub = await RawClient.connect(b.port, { clientId: 'rw-loader' });
    for (let i = 0; i < count; i++) await publishRaw(pub, `rw/${i}`, String(i), 1, undefined, true);
    pub.close();
  };

  for (const cleanStart of [true, false]) {
    test(`[MQTT-3.3.1-6] (3.1.1) ${cleanStart ? 'clean' : 'persistent'} session: retained messages of a new subscription go out 40 at a time, live ones 5 at a time, in order`, async () => {
      await start(100);
      const sub = await RawClient.connect(b.port, { clientId: `rw-sub-${cleanStart}`, cleanStart });
      await subscribeRaw(sub, [subscription('rw/#', 1), subscription('live/#', 1)]);
      const first = await take(sub, 40);
      assert.ok(first.every((p) => p.retain), 'sent because of the subscription: RETAIN set');
      await expectNothingPending(sub, 'no 41st while 40 are unacknowledged');
      const pub = await RawClient.connect(b.port, { clientId: 'rw-live' });
      await publishRaw(pub, 'live/x', 'live 0', 1);
      await expectNothingPending(sub, 'the live message waits behind the retained ones');
      ack(sub, first);
      const second = await take(sub, 40);
      await expectNothingPending(sub, 'the window again');
      ack(sub, second);
      const third = await take(sub, 20);
      assert.ok(third.every((p) => p.retain && p.topic.startsWith('rw/')));
      await expectNothingPending(sub, 'the live message waits for the ordinary window: 20 retained are unacknowledged');
      const topics = new Set([...first, ...second, ...third].map((p) => p.topic));
      assert.equal(topics.size, 100, 'every retained message once');
      ack(sub, third);
      const live = await expectPublish(sub);
      assert.equal(live.payload.toString(), 'live 0');
      for (let i = 1; i <= 10; i++) await publishRaw(pub, 'live/x', `live ${i}`, 1);
      const next = await take(sub, 4);
      await expectNothingPending(sub, 'live messages keep to the window of 5');
      assert.deepEqual(next.map((p) => p.payload.toString()), ['live 1', 'live 2', 'live 3', 'live 4']);
      pub.close();
      sub.close();
    });
  }

  test('[MQTT-3.3.4-9] (v5) the retained window is capped by the client\'s Receive Maximum', async () => {
    await start(30);
    const sub = await rawV5(b.port, { properties: { receiveMaximum: 12 } });
    await subscribeRaw(sub, subscription('rw/#', 1));
    const first = await take(sub, 12);
    await expectNothingPending(sub, 'no more than Receive Maximum unacknowledged');
    ack(sub, first);
    const rest = [...(await take(sub, 12))];
    ack(sub, rest);
    rest.push(...(await take(sub, 6)));
    assert.equal(new Set([...first, ...rest].map((p) => p.topic)).size, 30);
    sub.close();
  });

  test('[MQTT-3.3.1-6] (3.1.1) MQTT.js with its defaults gets 3,000 retained QoS 1 messages each once under the default windows', async () => {
    b = await startBroker();
    const pub = await connect(b.url, { clientId: 'rw-mqttjs-pub' });
    for (let i = 0; i < 3000; i++) pub.publish(`rw/${i}`, String(i), { qos: 1, retain: true });
    await publish(pub, 'rw-sync', 'x', { qos: 1 });
    await end(pub);
    const sub = await connect(b.url, { clientId: 'rw-mqttjs-sub' });
    const inbox = new Inbox(sub);
    await subscribe(sub, 'rw/#', { qos: 1 });
    const got = await inbox.waitFor(3000, 20_000);
    assert.equal(new Set(got.map((m) => m.topic)).size, 3000, 'each once');
    assert.ok(got.every((m) => m.packet.retain && m.packet.qos === 1));
    assert.equal(b.broker.core.stats.messagesDropped, 0);
    await end(sub);
  });
});
