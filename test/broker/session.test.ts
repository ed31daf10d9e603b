// Persistent and clean sessions, MQTT 3.1.1 (sections 3.1.2.4, 4.1, 4.4).

import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, connectWithInbox, end, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import type { PublishPacket } from '../../src/protocol/packets.js';

describe('MQTT 3.1.1 sessions', () => {
  let b: TestBroker;
  beforeEach(async () => {
    b = await startBroker({ maxQueuedMessages: 1000 });
  });
  afterEach(async () => {
    await b.close();
  });

  test('[MQTT-3.1.2-4][MQTT-3.1.2-5][MQTT-4.1.0-1] QoS 1 and 2 messages for an offline persistent session arrive in order on return', async () => {
    const sub = await connect(b.url, { clientId: 'persist-1', clean: false });
    await subscribe(sub, 'p/#', { qos: 2 });
    await end(sub);
    const pub = await connect(b.url);
    for (let i = 0; i < 50; i++) await publish(pub, `p/${i % 3}`, String(i), { qos: (1 + (i % 2)) as 1 | 2 });
    await publish(pub, 'p/zero', 'qos0 is not queued', { qos: 0 });
    const { client: back, inbox } = await connectWithInbox(b.url, { clientId: 'persist-1', clean: false });
    const got = await inbox.waitFor(50);
    // Order holds per QoS (MQTT.js hands a QoS 2 message over only at PUBREL, after QoS 1 ones).
    const ofQos = (q: number): number[] => got.filter((m) => m.packet.qos === q).map((m) => Number(m.payload));
    assert.deepEqual(ofQos(1), Array.from({ length: 25 }, (_, i) => i * 2));
    assert.deepEqual(ofQos(2), Array.from({ length: 25 }, (_, i) => i * 2 + 1));
    await end(pub, back);
  });

  test('[MQTT-3.1.2-6][MQTT-3.1.4-3] clean session discards the stored session and its messages', async () => {
    const sub = await connect(b.url, { clientId: 'persist-2', clean: false });
    await subscribe(sub, 'c/x', { qos: 1 });
    await end(sub);
    const pub = await connect(b.url);
    await publish(pub, 'c/x', 'queued', { qos: 1 });
    const { client: clean, inbox } = await connectWithInbox(b.url, { clientId: 'persist-2', clean: true });
    await publish(pub, 'c/x', 'after', { qos: 1 });
    await subscribe(clean, 'c/probe');
    await publish(pub, 'c/probe', 'probe', { qos: 1 });
    const got = await inbox.waitFor(1);
    assert.deepEqual(got.map((m) => m.payload.toString()), ['probe'], 'old subscription and queued message are gone');
    await end(clean);
    // clean session state does not outlive the connection either
    const again = await RawClient.open(b.port);
    again.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: false, keepAlive: 0, clientId: 'persist-2' });
    const connack = await again.next();
    assert.equal(connack.type === 2 && connack.sessionPresent, false);
    again.close();
    await end(pub);
  });

  test('[MQTT-4.4.0-1][MQTT-3.3.1-1][MQTT-4.6.0-1] unacknowledged messages are re-sent with DUP=1 and their original ids on reconnect', async () => {
    const sub = await RawClient.connect(b.port, { clientId: 'redeliver', cleanStart: false });
    sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'rd/#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    await sub.next();
    const pub = await connect(b.url);
    await publish(pub, 'rd/1', 'one', { qos: 1 });
    await publish(pub, 'rd/2', 'two', { qos: 2 });
    await publish(pub, 'rd/3', 'three', { qos: 2 });
    const first = (await sub.next()) as PublishPacket;
    const second = (await sub.next()) as PublishPacket;
    const third = (await sub.next()) as PublishPacket;
    // Acknowledge only the first half of the third's QoS 2 flow.
    sub.send({ type: 5, packetId: third.packetId! });
    assert.equal((await sub.next()).type, 6);
    sub.close();

    const back = await RawClient.open(b.port);
    back.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: false, keepAlive: 0, clientId: 'redeliver' });
    const connack = await back.next();
    assert.equal(connack.type === 2 && connack.sessionPresent, true);
    const r1 = (await back.next()) as PublishPacket;
    const r2 = (await back.next()) as PublishPacket;
    const r3 = await back.next();
    assert.deepEqual([r1.packetId, r1.dup, r1.payload.toString()], [first.packetId, true, 'one']);
    assert.deepEqual([r2.packetId, r2.dup, r2.payload.toString()], [second.packetId, true, 'two']);
    assert.equal(r3.type, 6, 'PUBREL re-sent for the released QoS 2 message');
    assert.equal(r3.type === 6 && r3.packetId, third.packetId);
    back.close();
    await end(pub);
  });

  test('the queue of an offline session is bounded; what it drops is counted', async () => {
    const sub = await connect(b.url, { clientId: 'bounded', clean: false });
    await subscribe(sub, 'bound/t', { qos: 1 });
    await end(sub);
    const pub = await connect(b.url);
    for (let i = 0; i < 1010; i++) pub.publish('bound/t', String(i), { qos: 1 });
    await publish(pub, 'bound/flush', 'x', { qos: 1 });
    assert.equal(b.broker.core.stats.messagesDropped, 10);
    const { client: back, inbox } = await connectWithInbox(b.url, { clientId: 'bounded', clean: false });
    const got = await inbox.waitFor(1000);
    assert.equal(got[0].payload.toString(), '0', 'drop-new keeps the oldest');
    assert.equal(got[999].payload.toString(), '999');
    await end(pub, back);
  });

  test('the outgoing in-flight window is bounded; the rest waits and follows in order', async () => {
    await b.close();
    b = await startBroker({ maxInflight: 5 });
    const sub = await RawClient.connect(b.port, { clientId: 'window' });
    sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'win/t', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    await sub.next();
    const pub = await connect(b.url);
    for (let i = 0; i < 12; i++) await publish(pub, 'win/t', String(i), { qos: 1 });
    const firstFive: PublishPacket[] = [];
    for (let i = 0; i < 5; i++) firstFive.push((await sub.next()) as PublishPacket);
    sub.send({ type: 12 });
    assert.equal((await sub.next()).type, 13, 'no sixth message before an ack');
    const rest: string[] = [];
    for (const p of firstFive) sub.send({ type: 4, packetId: p.packetId! });
    for (let i = 0; i < 7; i++) {
      const p = (await sub.next()) as PublishPacket;
      rest.push(p.payload.toString());
      sub.send({ type: 4, packetId: p.packetId! });
    }
    assert.deepEqual([...firstFive.map((p) => p.payload.toString()), ...rest], Array.from({ length: 12 }, (_, i) => String(i)));
    sub.close();
    await end(pub);
  });
});
