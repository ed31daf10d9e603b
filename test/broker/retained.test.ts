// Retained messages, MQTT 3.1.1 (section 3.3.1.3), as the seed describes them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import type { PublishPacket } from '../../src/protocol/packets.js';

describe('MQTT 3.1.1 retained messages', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.3.1-5][MQTT-3.3.1-6][MQTT-3.3.1-8] a new subscription gets the retained message with retain=1', async () => {
    const pub = await connect(b.url);
    await publish(pub, 'ret/a', 'last good value', { qos: 1, retain: true });
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'ret/a', { qos: 1 });
    const [m] = await inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'last good value');
    assert.equal(m.packet.retain, true);
    assert.equal(m.packet.qos, 1);
    await end(pub, sub);
  });

  test('[MQTT-3.3.1-7] at most one retained message per topic: the newest replaces it', async () => {
    const pub = await connect(b.url);
    await publish(pub, 'ret/b', 'one', { qos: 1, retain: true });
    await publish(pub, 'ret/b', 'two', { qos: 0, retain: true });
    await publish(pub, 'ret/b', 'three', { qos: 1, retain: true });
    const sub = await RawClient.connect(b.port);
    sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'ret/b', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    assert.equal((await sub.next()).type, 9);
    const p = (await sub.next()) as PublishPacket;
    assert.equal(p.payload.toString(), 'three');
    sub.send({ type: 12 });
    assert.equal((await sub.next()).type, 13, 'only one retained message');
    sub.close();
    await end(pub);
  });

  test('[MQTT-3.3.1-6] a wildcard subscription gets the retained message of every matching topic', async () => {
    const pub = await connect(b.url);
    for (const room of ['kitchen', 'hall', 'attic']) await publish(pub, `ret/house/${room}`, room, { qos: 1, retain: true });
    await publish(pub, 'ret/other/x', 'no', { qos: 1, retain: true });
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'ret/house/+');
    const got = await inbox.waitFor(3);
    assert.deepEqual(got.map((m) => m.payload.toString()).sort(), ['attic', 'hall', 'kitchen']);
    await end(pub, sub);
  });

  test('[MQTT-3.3.1-9] messages to existing subscriptions go out with retain=0', async () => {
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'ret/live');
    const pub = await connect(b.url);
    await publish(pub, 'ret/live', 'now', { qos: 1, retain: true });
    const [m] = await inbox.waitFor(1);
    assert.equal(m.packet.retain, false);
    await end(pub, sub);
  });

  test('[MQTT-3.3.1-10][MQTT-3.3.1-11] an empty retained payload clears the topic, is forwarded, and is not stored', async () => {
    const pub = await connect(b.url);
    await publish(pub, 'ret/del', 'soon gone', { qos: 1, retain: true });
    const live = await connect(b.url);
    const liveInbox = new Inbox(live);
    await subscribe(live, 'ret/del');
    await liveInbox.waitFor(1);
    await publish(pub, 'ret/del', '', { qos: 1, retain: true });
    const got = await liveInbox.waitFor(2);
    assert.equal(got[1].payload.length, 0, 'the empty message is forwarded to existing subscribers');
    const late = await RawClient.connect(b.port);
    late.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'ret/del', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    assert.equal((await late.next()).type, 9);
    late.send({ type: 12 });
    assert.equal((await late.next()).type, 13, 'no retained message after deletion');
    assert.equal(b.broker.core.retained.get('ret/del'), undefined);
    late.close();
    await end(pub, live);
  });

  test('[MQTT-3.3.1-12] a non-retained PUBLISH leaves the retained message alone', async () => {
    const pub = await connect(b.url);
    await publish(pub, 'ret/keep', 'kept', { qos: 1, retain: true });
    await publish(pub, 'ret/keep', 'passing', { qos: 1, retain: false });
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'ret/keep');
    assert.equal((await inbox.waitFor(1))[0].payload.toString(), 'kept');
    await end(pub, sub);
  });

  test('[MQTT-3.8.4-3] subscribing again replaces the subscription and sends the retained messages again', async () => {
    const pub = await connect(b.url);
    await publish(pub, 'ret/again', 'v', { qos: 1, retain: true });
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'ret/again', { qos: 0 });
    await inbox.waitFor(1);
    const grant = await subscribe(sub, 'ret/again', { qos: 1 });
    assert.equal(grant[0].qos, 1);
    const got = await inbox.waitFor(2);
    assert.equal(got[1].packet.retain, true);
    assert.equal(got[1].packet.qos, 1, 'the replacing subscription is used');
    await publish(pub, 'ret/again', 'live', { qos: 1 });
    const all = await inbox.waitFor(3);
    assert.equal(all.length, 3, 'one subscription, not two');
    await end(pub, sub);
  });

  test('retained delivery QoS is the minimum of the retained message QoS and the granted QoS', async () => {
    const pub = await connect(b.url);
    await publish(pub, 'ret/q/zero', 'z', { qos: 0, retain: true });
    await publish(pub, 'ret/q/two', 't', { qos: 2, retain: true });
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'ret/q/#', { qos: 1 });
    const got = await inbox.waitFor(2);
    const byTopic = Object.fromEntries(got.map((m) => [m.topic, m.packet.qos]));
    assert.deepEqual(byTopic, { 'ret/q/zero': 0, 'ret/q/two': 1 });
    await end(pub, sub);
  });

  test('[MQTT-3.1.2-7] retained messages outlive the session that published them', async () => {
    const pub = await connect(b.url, { clean: true, clientId: 'ret-publisher' });
    await publish(pub, 'ret/outlive', 'still here', { qos: 1, retain: true });
    await end(pub);
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'ret/outlive');
    assert.equal((await inbox.waitFor(1))[0].payload.toString(), 'still here');
    await end(sub);
  });

  test('a # subscriber receives 5,000 retained topics, found through the topic tree', async () => {
    const pub = await RawClient.connect(b.port);
    const n = 5000;
    for (let i = 0; i < n; i++) pub.send({ type: 3, topic: `bulk/${i % 50}/${i}`, payload: Buffer.from(String(i)), qos: 0, retain: true, dup: false });
    pub.send({ type: 12 });
    assert.equal((await pub.next()).type, 13);
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'bulk/#');
    const got = await inbox.waitFor(n, 10000);
    assert.equal(new Set(got.map((m) => m.topic)).size, n);
    pub.close();
    await end(sub);
  });
});

describe('MQTT 3.1.1 retained messages beyond the write buffer', () => {
  let b: TestBroker;
  before(async () => {
    // A small write buffer: the matches of one subscription are many times what may be buffered.
    b = await startBroker({ maxBufferedBytes: 16 * 1024 });
  });
  after(async () => {
    await b.close();
  });

  for (const qos of [0, 1] as const) {
    test(`[MQTT-3.3.1-6] (3.1.1) every one of 3,000 retained matches arrives at QoS ${qos}, though they fill the write buffer many times over`, async () => {
      const pub = await connect(b.url);
      const payload = Buffer.alloc(100, 'r');
      for (let i = 0; i < 3000; i++) pub.publish(`many${qos}/${i}`, payload, { qos: 0, retain: true });
      await publish(pub, `many${qos}/last`, payload, { qos: 1, retain: true });
      const sub = await connect(b.url);
      const inbox = new Inbox(sub);
      await subscribe(sub, `many${qos}/#`, { qos });
      const got = await inbox.waitFor(3001, 15_000);
      assert.equal(new Set(got.map((m) => m.topic)).size, 3001);
      await end(pub, sub);
    });
  }
});
