// MQTT 5.0, 3.1.1 and 3.1 clients on the same topics: messages, retained messages and wills cross
// versions; 5.0 properties are dropped for the older versions and each side gets packets of its
// own version.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, connectWithInbox, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import type { ProtocolVersion, PublishPacket, QoS } from '../../src/protocol/packets.js';
import { ackRaw, elapse, expectPublish, publishRaw, rawV5, subscribeRaw, subscription, uniqueId } from '../helpers/v5.js';

const richProperties = {
  payloadFormatIndicator: 1,
  contentType: 'text/plain',
  responseTopic: 'mixed/reply',
  correlationData: Buffer.from('corr'),
  userProperties: [['k', 'v']] as [string, string][],
  messageExpiryInterval: 60,
};

describe('MQTT 5 with 3.1.1 and 3.1 clients', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  async function oldSubscriber(version: 3 | 4, filter: string, qos: QoS = 2): Promise<RawClient> {
    const c = await RawClient.connect(b.port, { protocolVersion: version, clientId: uniqueId(`v${version}`) });
    c.send({ type: 8, packetId: 1, subscriptions: [subscription(filter, qos)] });
    const suback = await c.next();
    assert.equal(suback.type, 9);
    return c;
  }

  async function nextPublish(c: RawClient): Promise<PublishPacket> {
    const p = await c.next();
    assert.equal(p.type, 3, `expected PUBLISH, got ${JSON.stringify(p)}`);
    return p as PublishPacket;
  }

  test('(v5) a 5.0 message with properties reaches 3.1.1 and 3.1 subscribers as a plain PUBLISH of their version', async () => {
    const v4 = await oldSubscriber(4, 'mixed/from5');
    const v3 = await oldSubscriber(3, 'mixed/from5');
    const v5 = await rawV5(b.port);
    await subscribeRaw(v5, subscription('mixed/from5', 2));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'mixed/from5', 'hello old ones', 1, richProperties);
    for (const c of [v4, v3]) {
      const p = await nextPublish(c);
      assert.deepEqual([p.topic, p.payload.toString(), p.qos], ['mixed/from5', 'hello old ones', 1]);
      assert.equal(p.properties, undefined, 'no properties on the wire of 3.1.1 / 3.1');
      c.send({ type: 4, packetId: p.packetId! });
    }
    const p5 = await expectPublish(v5);
    assert.equal(p5.properties?.contentType, 'text/plain');
    assert.deepEqual(p5.properties?.userProperties, [['k', 'v']]);
    for (const c of [v4, v3, v5, pub]) c.close();
  });

  test('(v5) MQTT.js 3.1 and 3.1.1 subscribers receive a 5.0 MQTT.js publisher\'s QoS 2 messages', async () => {
    const v3 = await connect(b.url, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: uniqueId('js3') });
    const v4 = await connect(b.url, { protocolVersion: 4 });
    const in3 = new Inbox(v3);
    const in4 = new Inbox(v4);
    await subscribe(v3, 'mixed/js', { qos: 2 });
    await subscribe(v4, 'mixed/js', { qos: 2 });
    const pub = await connect(b.url, { protocolVersion: 5 });
    await publish(pub, 'mixed/js', 'q2', { qos: 2, properties: { contentType: 'x', userProperties: { a: 'b' } } });
    const [m3] = await in3.waitFor(1);
    const [m4] = await in4.waitFor(1);
    assert.deepEqual([m3.payload.toString(), m3.packet.qos], ['q2', 2]);
    assert.deepEqual([m4.payload.toString(), m4.packet.qos], ['q2', 2]);
    await end(v3, v4, pub);
  });

  for (const version of [3, 4] as ProtocolVersion[]) {
    test(`(v5) a ${version === 3 ? '3.1' : '3.1.1'} publisher's QoS 1 and 2 messages reach a 5.0 subscriber without properties, with its subscription identifier`, async () => {
      const v5 = await rawV5(b.port);
      await subscribeRaw(v5, subscription(`mixed/to5/${version}`, 2), { subscriptionIdentifiers: [7] });
      const pub = await RawClient.connect(b.port, { protocolVersion: version, clientId: uniqueId(`pub${version}`) });
      pub.send({ type: 3, topic: `mixed/to5/${version}`, payload: Buffer.from('one'), qos: 1, retain: false, dup: false, packetId: 1 });
      assert.equal((await pub.next()).type, 4);
      pub.send({ type: 3, topic: `mixed/to5/${version}`, payload: Buffer.from('two'), qos: 2, retain: false, dup: false, packetId: 2 });
      assert.equal((await pub.next()).type, 5);
      pub.send({ type: 6, packetId: 2 });
      assert.equal((await pub.next()).type, 7);
      const got: string[] = [];
      for (let i = 0; i < 2; i++) {
        const p = await expectPublish(v5);
        assert.deepEqual(p.properties, { subscriptionIdentifiers: [7] });
        got.push(`${p.payload.toString()}@${p.qos}`);
        await ackRaw(v5, p);
      }
      assert.deepEqual(got, ['one@1', 'two@2']);
      v5.close();
      pub.close();
    });
  }

  test('(v5) retained messages cross versions both ways; a 5.0 reader still gets the 5.0 properties', async () => {
    const p5 = await rawV5(b.port);
    await publishRaw(p5, 'mixed/ret/5', 'from five', 1, { contentType: 'text/plain' }, true);
    const p4 = await RawClient.connect(b.port, { protocolVersion: 4 });
    p4.send({ type: 3, topic: 'mixed/ret/4', payload: Buffer.from('from four'), qos: 1, retain: true, dup: false, packetId: 1 });
    assert.equal((await p4.next()).type, 4);

    const r4 = await oldSubscriber(4, 'mixed/ret/+', 1);
    const got4 = [await nextPublish(r4), await nextPublish(r4)];
    assert.deepEqual(got4.map((p) => [p.payload.toString(), p.retain]).sort(), [['from five', true], ['from four', true]]);
    const r5 = await rawV5(b.port);
    await subscribeRaw(r5, subscription('mixed/ret/+', 1));
    const got5 = [await expectPublish(r5), await expectPublish(r5)].sort((x, y) => x.topic.localeCompare(y.topic));
    assert.deepEqual(got5.map((p) => [p.topic, p.payload.toString(), p.retain]), [['mixed/ret/4', 'from four', true], ['mixed/ret/5', 'from five', true]]);
    assert.equal(got5[0].properties, undefined);
    assert.equal(got5[1].properties?.contentType, 'text/plain');
    await publishRaw(p5, 'mixed/ret/5', '', 1, undefined, true);
    await publishRaw(p5, 'mixed/ret/4', '', 1, undefined, true);
    for (const c of [p5, p4, r4, r5]) c.close();
  });

  test('(v5) a 3.1 client\'s will reaches a 5.0 subscriber, and a 5.0 will with properties reaches a 3.1 subscriber', async () => {
    const s5 = await rawV5(b.port);
    await subscribeRaw(s5, subscription('mixed/will/#', 1));
    const s3 = await oldSubscriber(3, 'mixed/will/#', 1);
    const w3 = await RawClient.connect(b.port, { protocolVersion: 3, clientId: uniqueId('w3'), will: { topic: 'mixed/will/3', payload: Buffer.from('three gone'), qos: 1, retain: false } });
    w3.close();
    const a = await expectPublish(s5);
    assert.equal(a.payload.toString(), 'three gone');
    await ackRaw(s5, a);
    const a3 = await nextPublish(s3);
    s3.send({ type: 4, packetId: a3.packetId! });
    const w5 = await rawV5(b.port, { will: { topic: 'mixed/will/5', payload: Buffer.from('five gone'), qos: 1, retain: false, properties: { contentType: 'text/plain', userProperties: [['x', 'y']] } } });
    w5.close();
    const c3 = await nextPublish(s3);
    assert.deepEqual([c3.topic, c3.payload.toString(), c3.properties], ['mixed/will/5', 'five gone', undefined]);
    const c5 = await expectPublish(s5);
    assert.equal(c5.properties?.contentType, 'text/plain');
    s5.close();
    s3.close();
  });

  test('[MQTT-3.3.2-5] (v5) a 5.0 message that expires while queued for an offline 3.1.1 session is not delivered', async () => {
    const clientId = uniqueId('v4-offline');
    const { client: first } = await connectWithInbox(b.url, { protocolVersion: 4, clientId, clean: false });
    await subscribe(first, 'mixed/expire', { qos: 1 });
    await end(first);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'mixed/expire', 'short', 1, { messageExpiryInterval: 1 });
    await publishRaw(pub, 'mixed/expire', 'kept', 1);
    await elapse(1100);
    const { client: back, inbox } = await connectWithInbox(b.url, { protocolVersion: 4, clientId, clean: false });
    await publishRaw(pub, 'mixed/expire', 'marker', 1);
    const got = await inbox.waitFor(2);
    assert.deepEqual(got.map((m) => m.payload.toString()), ['kept', 'marker'], 'the expired message never came');
    await end(back);
    pub.close();
  });
});
