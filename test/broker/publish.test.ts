// PUBLISH, SUBSCRIBE, UNSUBSCRIBE and the QoS flows, MQTT 3.1.1 (sections 3.3-3.11 and 4.3-4.7).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import type { Packet, PublishPacket, SubackPacket } from '../../src/protocol/packets.js';

/** [type, packet id] of an acknowledgement, to compare without version-specific fields. */
function ack(p: Packet): [number, number | undefined] {
  return [p.type, 'packetId' in p ? p.packetId : undefined];
}

describe('MQTT 3.1.1 publish and subscribe', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.3.2-3] + and # filters receive the matching topics only', async () => {
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, ['wc/+/temp', 'wc/house/#']);
    const pub = await connect(b.url);
    await publish(pub, 'wc/kitchen/temp', '1');
    await publish(pub, 'wc/kitchen/humidity', 'no');
    await publish(pub, 'wc/house', '2');
    await publish(pub, 'wc/house/a/b', '3');
    await publish(pub, 'other', 'no');
    const got = await inbox.waitFor(3);
    assert.deepEqual(got.map((m) => m.topic), ['wc/kitchen/temp', 'wc/house', 'wc/house/a/b']);
    await end(sub, pub);
  });

  test('[MQTT-4.7.2-1] filters starting with a wildcard do not match $ topics', async () => {
    const sub = await RawClient.connect(b.port);
    sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: '#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }, { topicFilter: '+/x', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    await sub.next();
    const dollar = await RawClient.connect(b.port);
    dollar.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: '$app/#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    await dollar.next();
    const pub = await RawClient.connect(b.port);
    pub.send({ type: 3, topic: '$app/x', payload: Buffer.from('d'), qos: 0, retain: false, dup: false });
    pub.send({ type: 3, topic: 'plain/x', payload: Buffer.from('p'), qos: 0, retain: false, dup: false });
    const p = (await sub.next()) as PublishPacket;
    assert.equal(p.topic, 'plain/x');
    const d = (await dollar.next()) as PublishPacket;
    assert.equal(d.topic, '$app/x');
    sub.close();
    dollar.close();
    pub.close();
  });

  test('[MQTT-3.8.4-1][MQTT-3.8.4-2][MQTT-3.8.4-4][MQTT-3.8.4-5][MQTT-3.9.3-1][MQTT-3.9.3-2] one SUBACK, same packet id, one code per filter in order', async () => {
    const c = await RawClient.connect(b.port);
    c.send({
      type: 8,
      packetId: 4242,
      subscriptions: [
        { topicFilter: 'a/q0', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: 'a/#/bad', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: 'a/q2', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: 'a/q1', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
    const suback = (await c.next()) as SubackPacket;
    assert.equal(suback.type, 9);
    assert.equal(suback.packetId, 4242);
    assert.deepEqual(suback.reasonCodes, [0, 0x80, 2, 1]);
    c.close();
  });

  test('[MQTT-3.3.5-1] overlapping subscriptions deliver once, at the highest granted QoS', async () => {
    const c = await RawClient.connect(b.port);
    c.send({ type: 8, packetId: 1, subscriptions: [
      { topicFilter: 'ov/#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      { topicFilter: 'ov/+', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      { topicFilter: 'ov/x', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    ] });
    await c.next();
    const pub = await connect(b.url);
    await publish(pub, 'ov/x', 'once', { qos: 2 });
    const p = (await c.next()) as PublishPacket;
    assert.equal(p.qos, 2);
    c.send({ type: 12 });
    assert.equal((await c.next()).type, 13, 'no second copy before PINGRESP');
    c.close();
    await end(pub);
  });

  test('[MQTT-3.8.4-6] delivered QoS is the minimum of published and granted QoS', async () => {
    const sub0 = await connect(b.url);
    const sub2 = await connect(b.url);
    const in0 = new Inbox(sub0);
    const in2 = new Inbox(sub2);
    await subscribe(sub0, 'minq/t', { qos: 0 });
    await subscribe(sub2, 'minq/t', { qos: 2 });
    const pub = await connect(b.url);
    await publish(pub, 'minq/t', 'q1', { qos: 1 });
    await publish(pub, 'minq/t', 'q2', { qos: 2 });
    const a = await in0.waitFor(2);
    const c = await in2.waitFor(2);
    assert.deepEqual(a.map((m) => m.packet.qos), [0, 0]);
    assert.deepEqual(c.map((m) => m.packet.qos), [1, 2]);
    await end(sub0, sub2, pub);
  });

  test('[MQTT-4.3.3-2][MQTT-4.3.3-1] a QoS 2 PUBLISH sent twice before PUBREL is delivered once', async () => {
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'once/q2', { qos: 2 });
    const pub = await RawClient.connect(b.port);
    const msg: PublishPacket = { type: 3, topic: 'once/q2', payload: Buffer.from('x'), qos: 2, retain: false, dup: false, packetId: 7 };
    pub.send(msg);
    assert.deepEqual(ack(await pub.next()), [5, 7]);
    pub.send({ ...msg, dup: true });
    assert.equal((await pub.next()).type, 5, 'duplicate answered with PUBREC again');
    pub.send({ type: 6, packetId: 7 });
    const comp = await pub.next();
    assert.equal(comp.type, 7);
    // After PUBCOMP the id is free: a new message with it is delivered again.
    pub.send({ ...msg, payload: Buffer.from('y') });
    await pub.next();
    pub.send({ type: 6, packetId: 7 });
    await pub.next();
    const got = await inbox.waitFor(2);
    assert.deepEqual(got.map((m) => m.payload.toString()), ['x', 'y']);
    pub.close();
    await end(sub);
  });

  test('[MQTT-4.3.2-1][MQTT-4.3.2-2][MQTT-2.3.1-6] QoS 1: PUBACK echoes the packet id; the broker sends with an unused id and DUP 0', async () => {
    const sub = await RawClient.connect(b.port);
    sub.send({ type: 8, packetId: 3, subscriptions: [{ topicFilter: 'q1/t', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    await sub.next();
    const pub = await RawClient.connect(b.port);
    pub.send({ type: 3, topic: 'q1/t', payload: Buffer.from('a'), qos: 1, retain: false, dup: false, packetId: 99 });
    pub.send({ type: 3, topic: 'q1/t', payload: Buffer.from('b'), qos: 1, retain: false, dup: false, packetId: 100 });
    assert.deepEqual(ack(await pub.next()), [4, 99]);
    assert.deepEqual(ack(await pub.next()), [4, 100]);
    const a = (await sub.next()) as PublishPacket;
    const c = (await sub.next()) as PublishPacket;
    assert.equal(a.dup, false);
    assert.notEqual(a.packetId, c.packetId);
    assert.ok(a.packetId! > 0 && c.packetId! > 0);
    sub.send({ type: 4, packetId: a.packetId! });
    sub.send({ type: 4, packetId: c.packetId! });
    pub.close();
    sub.close();
  });

  test('[MQTT-4.3.3-1] QoS 2 towards a subscriber: PUBLISH, PUBREC, PUBREL, PUBCOMP', async () => {
    const sub = await RawClient.connect(b.port);
    sub.send({ type: 8, packetId: 3, subscriptions: [{ topicFilter: 'q2/out', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    await sub.next();
    const pub = await connect(b.url);
    await publish(pub, 'q2/out', 'exactly', { qos: 2 });
    const p = (await sub.next()) as PublishPacket;
    assert.equal(p.qos, 2);
    sub.send({ type: 5, packetId: p.packetId! });
    assert.deepEqual(ack(await sub.next()), [6, p.packetId]);
    sub.send({ type: 7, packetId: p.packetId! });
    sub.send({ type: 12 });
    assert.equal((await sub.next()).type, 13);
    sub.close();
    await end(pub);
  });

  test('[MQTT-4.6.0-5][MQTT-4.6.0-6][MQTT-4.6.0-2][MQTT-7.1.1-1] messages on one topic arrive in the order published', async () => {
    const sub = await connect(b.url);
    const inbox = new Inbox(sub);
    await subscribe(sub, 'order/t', { qos: 1 });
    const pub = await connect(b.url);
    const n = 500;
    await Promise.all(Array.from({ length: n }, (_, i) => publish(pub, 'order/t', String(i), { qos: 1 })));
    const got = await inbox.waitFor(n);
    assert.deepEqual(got.map((m) => Number(m.payload)), Array.from({ length: n }, (_, i) => i));
    await end(sub, pub);
  });

  test('[MQTT-3.10.4-1][MQTT-3.10.4-2][MQTT-3.10.4-4][MQTT-3.10.4-5][MQTT-3.10.4-6] UNSUBSCRIBE removes exact filters; UNSUBACK always', async () => {
    const c = await RawClient.connect(b.port);
    c.send({ type: 8, packetId: 1, subscriptions: [
      { topicFilter: 'un/+', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      { topicFilter: 'un/x', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    ] });
    await c.next();
    c.send({ type: 10, packetId: 77, topicFilters: ['un/+', 'un/never'] });
    assert.deepEqual(await c.next(), { type: 11, packetId: 77 });
    const pub = await RawClient.connect(b.port);
    pub.send({ type: 3, topic: 'un/y', payload: Buffer.from('gone'), qos: 0, retain: false, dup: false });
    pub.send({ type: 3, topic: 'un/x', payload: Buffer.from('kept'), qos: 0, retain: false, dup: false });
    const p = (await c.next()) as PublishPacket;
    assert.equal(p.payload.toString(), 'kept');
    c.send({ type: 10, packetId: 78, topicFilters: ['nothing/here'] });
    assert.deepEqual(await c.next(), { type: 11, packetId: 78 });
    c.close();
    pub.close();
  });

  test('[MQTT-3.3.2-2][MQTT-4.7.1-1] a PUBLISH topic with a wildcard closes the connection', async () => {
    for (const topic of ['bad/+', 'bad/#']) {
      const c = await RawClient.connect(b.port);
      c.send({ type: 3, topic, payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
      await c.waitClosed();
    }
  });

  test('[MQTT-3.3.2-2] (v3.1.1) a wildcard topic after valid ones from the same client still closes the connection', async () => {
    // The broker remembers a client's last valid topic to skip checking it again: only that one.
    for (const bad of ['ok/+', 'ok/t/#', '+']) {
      const sub = await RawClient.connect(b.port);
      sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'ok/#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
      assert.equal((await sub.next()).type, 9);
      const c = await RawClient.connect(b.port);
      for (const topic of ['ok/t', 'ok/t', 'ok/u', 'ok/t']) c.send({ type: 3, topic, payload: Buffer.from(topic), qos: 0, retain: false, dup: false });
      c.send({ type: 3, topic: bad, payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
      await c.waitClosed();
      const got: string[] = [];
      for (let i = 0; i < 4; i++) got.push(((await sub.next()) as PublishPacket).topic);
      assert.deepEqual(got, ['ok/t', 'ok/t', 'ok/u', 'ok/t']);
      sub.close();
    }
  });

  test('[MQTT-4.5.0-1] every subscribed client gets its copy', async () => {
    const subs = await Promise.all(Array.from({ length: 5 }, () => connect(b.url)));
    const inboxes = subs.map((s) => new Inbox(s));
    await Promise.all(subs.map((s) => subscribe(s, 'fan/out', { qos: 1 })));
    const pub = await connect(b.url);
    await publish(pub, 'fan/out', 'all', { qos: 1 });
    for (const inbox of inboxes) assert.equal((await inbox.waitFor(1))[0].payload.toString(), 'all');
    await end(pub, ...subs);
  });
});
