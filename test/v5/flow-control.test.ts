// Flow control and size limits, MQTT 5.0 (sections 3.1.2.11.3-4, 3.3.4, 4.9, and the "left out
// if too large" rules for Reason String and User Property): Receive Maximum both ways, Maximum
// Packet Size both ways, a session queue over its quota.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import type { Packet } from '../../src/protocol/packets.js';
import {
  ackRaw,
  connackOf,
  connectPacket,
  expectDisconnect,
  expectNothingPending,
  expectPacket,
  expectPublish,
  publishRaw,
  rawV5,
  subscribeRaw,
  subscription,
  uniqueId,
  unsubscribeRaw,
  WireLog,
} from '../helpers/v5.js';

describe('MQTT 5 Receive Maximum of the client', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.3.4-9][MQTT-4.9.0-1][MQTT-4.9.0-2][MQTT-3.3.4-10][MQTT-4.9.0-3] (v5) at most Receive Maximum QoS 1 PUBLISH unacknowledged; other packets still flow; the rest follows in order', async () => {
    const c = await rawV5(b.port, { properties: { receiveMaximum: 2 } });
    await subscribeRaw(c, subscription('rm/q1', 1));
    const pub = await rawV5(b.port);
    for (let i = 0; i < 6; i++) await publishRaw(pub, 'rm/q1', String(i), 1);
    const first = [await expectPublish(c), await expectPublish(c)];
    await expectNothingPending(c, 'no third PUBLISH while two are unacknowledged; PINGRESP is not held back');
    const suback = await subscribeRaw(c, subscription('rm/other', 0));
    assert.deepEqual(suback.reasonCodes, [0], 'SUBACK is not held back');
    const got = first.map((p) => p.payload.toString());
    c.send({ type: 4, packetId: first[0].packetId! });
    const third = await expectPublish(c);
    got.push(third.payload.toString());
    await expectNothingPending(c, 'still two in flight');
    let inflight = [first[1], third];
    while (got.length < 6) {
      for (const p of inflight) c.send({ type: 4, packetId: p.packetId! });
      inflight = [];
      for (let i = 0; i < 2 && got.length < 6; i++) {
        const p = await expectPublish(c);
        got.push(p.payload.toString());
        inflight.push(p);
      }
    }
    assert.deepEqual(got, ['0', '1', '2', '3', '4', '5']);
    c.close();
    pub.close();
  });

  test('[MQTT-3.3.4-9][MQTT-4.4.0-1] (v5) a client back with a lower Receive Maximum gets that many of its unacknowledged messages again, with their packet ids; the rest as it acknowledges, before anything queued', async () => {
    const clientId = uniqueId('rm-back');
    const first = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 60, receiveMaximum: 10 } });
    await subscribeRaw(first, subscription('rm/back', 1));
    const pub = await rawV5(b.port);
    for (let i = 0; i < 12; i++) await publishRaw(pub, 'rm/back', String(i), 1);
    const sent: Packet[] = [];
    for (let i = 0; i < 10; i++) sent.push(await expectPublish(first));
    await expectNothingPending(first, 'ten in flight, two queued');
    first.send({ type: 14, reasonCode: 0 });
    await first.waitClosed();
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 60, receiveMaximum: 3 } });
    assert.equal(back.connack.sessionPresent, true);
    const idOf = (p: Packet): number => (p.type === 3 ? p.packetId! : -1);
    const again = [await expectPublish(back), await expectPublish(back), await expectPublish(back)];
    assert.deepEqual(again.map((p) => [p.payload.toString(), p.dup, p.packetId]), sent.slice(0, 3).map((p, i) => [String(i), true, idOf(p)]));
    await expectNothingPending(back, 'no more than the new Receive Maximum unacknowledged');
    back.send({ type: 4, packetId: again[0].packetId! });
    const fourth = await expectPublish(back);
    assert.deepEqual([fourth.payload.toString(), fourth.dup, fourth.packetId], ['3', true, idOf(sent[3])]);
    await expectNothingPending(back, 'still three');
    const got = [...again, fourth];
    let unacked = got.slice(1);
    while (got.length < 12) {
      for (const p of unacked) back.send({ type: 4, packetId: p.packetId! });
      unacked = [];
      for (let i = 0; i < 3 && got.length < 12; i++) {
        const p = await expectPublish(back);
        got.push(p);
        unacked.push(p);
      }
    }
    assert.deepEqual(got.map((p) => p.payload.toString()), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'], 'in order');
    assert.deepEqual(got.map((p) => p.dup), [...Array(10).fill(true), false, false], 'the ten resent, the two queued sent for the first time');
    back.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    pub.close();
  });

  test('[MQTT-3.3.4-9] (v5) a QoS 2 message counts against Receive Maximum until its PUBCOMP', async () => {
    const c = await rawV5(b.port, { properties: { receiveMaximum: 1 } });
    await subscribeRaw(c, subscription('rm/q2', 2));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'rm/q2', 'a', 2);
    await publishRaw(pub, 'rm/q2', 'b', 2);
    const p = await expectPublish(c);
    c.send({ type: 5, packetId: p.packetId! });
    assert.equal((await expectPacket(c, 6)).packetId, p.packetId);
    await expectNothingPending(c, 'PUBREC does not free the slot');
    c.send({ type: 7, packetId: p.packetId! });
    const q = await expectPublish(c);
    assert.equal(q.payload.toString(), 'b');
    await ackRaw(c, q);
    c.close();
    pub.close();
  });

  test('[MQTT-3.3.4-9][MQTT-4.4.0-1] (v5) back with a lower Receive Maximum: a resent PUBREL counts until its PUBCOMP; a PUBREC for a message not resent yet is answered, not resent', async () => {
    const clientId = uniqueId('rm-back2');
    const first = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 60, receiveMaximum: 4 } });
    await subscribeRaw(first, subscription('rm/back2', 2));
    const pub = await rawV5(b.port);
    for (const payload of ['a', 'b', 'c', 'd']) await publishRaw(pub, 'rm/back2', payload, 2);
    const sent = [await expectPublish(first), await expectPublish(first), await expectPublish(first), await expectPublish(first)];
    for (const p of sent.slice(0, 2)) {
      first.send({ type: 5, packetId: p.packetId! });
      assert.equal((await expectPacket(first, 6)).packetId, p.packetId);
    }
    first.send({ type: 14, reasonCode: 0 });
    await first.waitClosed();
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 60, receiveMaximum: 3 } });
    // Two PUBRELs and one PUBLISH: three unacknowledged, the fourth waits.
    assert.equal((await expectPacket(back, 6)).packetId, sent[0].packetId);
    assert.equal((await expectPacket(back, 6)).packetId, sent[1].packetId);
    const c = await expectPublish(back);
    assert.deepEqual([c.payload.toString(), c.dup, c.packetId], ['c', true, sent[2].packetId]);
    await expectNothingPending(back, 'd waits: the PUBRELs count');
    // The client had d from before: its PUBREC gets the PUBREL, and d is not sent again.
    back.send({ type: 5, packetId: sent[3].packetId! });
    assert.equal((await expectPacket(back, 6)).packetId, sent[3].packetId);
    for (const p of [sent[0], sent[1], sent[3]]) back.send({ type: 7, packetId: p.packetId! });
    back.send({ type: 5, packetId: c.packetId! });
    assert.equal((await expectPacket(back, 6)).packetId, c.packetId);
    back.send({ type: 7, packetId: c.packetId! });
    await expectNothingPending(back, 'all four complete, nothing sent twice');
    assert.equal(b.broker.core.sessions.get(clientId)!.inflight.size, 0);
    back.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    pub.close();
  });

  test('[MQTT-3.3.4-9] (v5) a PUBREC with a failure reason frees the slot', async () => {
    const c = await rawV5(b.port, { properties: { receiveMaximum: 1 } });
    await subscribeRaw(c, subscription('rm/rec', 2));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'rm/rec', 'a', 2);
    await publishRaw(pub, 'rm/rec', 'b', 2);
    const p = await expectPublish(c);
    c.send({ type: 5, packetId: p.packetId!, reasonCode: 0x80 });
    const q = await expectPublish(c);
    assert.equal(q.payload.toString(), 'b');
    await ackRaw(c, q);
    c.close();
    pub.close();
  });
});

describe('MQTT 5 Receive Maximum of the broker', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({ receiveMaximum: 2 });
  });
  after(async () => {
    await b.close();
  });

  const q2 = (packetId: number): Packet => ({ type: 3, topic: 'brm/t', payload: Buffer.from(String(packetId)), qos: 2, retain: false, dup: false, packetId });

  test('[MQTT-3.3.4-7] (v5) CONNACK announces Receive Maximum 2; a third QoS 2 PUBLISH before any PUBCOMP gets DISCONNECT 0x93', async () => {
    const c = await rawV5(b.port);
    assert.equal(c.connack.properties?.receiveMaximum, 2);
    c.send(q2(1));
    assert.equal((await expectPacket(c, 5)).packetId, 1);
    c.send(q2(2));
    assert.equal((await expectPacket(c, 5)).packetId, 2);
    c.send(q2(3));
    await expectDisconnect(c, 0x93);
  });

  test('(v5) within Receive Maximum: completing a QoS 2 flow frees a slot for the next PUBLISH', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('brm/t', 0));
    const c = await rawV5(b.port);
    c.send(q2(1));
    c.send(q2(2));
    await expectPacket(c, 5);
    await expectPacket(c, 5);
    c.send({ type: 6, packetId: 1 });
    assert.equal((await expectPacket(c, 7)).packetId, 1);
    c.send(q2(3));
    assert.equal((await expectPacket(c, 5)).packetId, 3);
    await expectNothingPending(c, 'still connected');
    const got = [await expectPublish(sub), await expectPublish(sub), await expectPublish(sub)].map((p) => p.payload.toString());
    assert.deepEqual(got, ['1', '2', '3']);
    c.close();
    sub.close();
  });

  test('(v5) a re-sent QoS 2 PUBLISH (same id, before PUBREL) does not count twice', async () => {
    const c = await rawV5(b.port);
    c.send(q2(1));
    await expectPacket(c, 5);
    c.send({ ...q2(1), dup: true } as Packet);
    await expectPacket(c, 5);
    c.send(q2(2));
    await expectPacket(c, 5);
    await expectNothingPending(c, 'two distinct messages outstanding is within the limit');
    c.close();
  });
});

describe('MQTT 5 Maximum Packet Size of the client', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.1.2-24][MQTT-3.1.2-25] (v5) a message too large for one subscriber is skipped for that subscriber only, as if delivered', async () => {
    const clientId = uniqueId('small');
    const small = await rawV5(b.port, { clientId, properties: { maximumPacketSize: 100, sessionExpiryInterval: 30 } });
    const wire = new WireLog(small);
    await subscribeRaw(small, subscription('mps/t', 1));
    const large = await rawV5(b.port);
    await subscribeRaw(large, subscription('mps/t', 1));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'mps/t', Buffer.alloc(300, 0x62), 1);
    await publishRaw(pub, 'mps/t', 'small', 1);
    const s = await expectPublish(small);
    assert.equal(s.payload.toString(), 'small', 'the large message was skipped');
    small.send({ type: 4, packetId: s.packetId! });
    const l1 = await expectPublish(large);
    const l2 = await expectPublish(large);
    assert.deepEqual([l1.payload.length, l2.payload.toString()], [300, 'small']);
    await expectNothingPending(small);
    assert.ok(wire.frames.every((f) => f.length <= 100), `a packet of ${Math.max(...wire.frames.map((f) => f.length))} bytes`);
    small.close();
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { maximumPacketSize: 1000, sessionExpiryInterval: 0 } });
    assert.equal(back.connack.sessionPresent, true);
    await expectNothingPending(back, 'the skipped message counts as delivered: it is not re-sent');
    back.close();
    large.close();
    pub.close();
  });

  test('[MQTT-3.1.2-25][MQTT-4.4.0-1] (v5) an unacknowledged message too large for the Maximum Packet Size the client comes back with is not resent, and frees its slot', async () => {
    const clientId = uniqueId('shrunk');
    const first = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 30, receiveMaximum: 1 } });
    await subscribeRaw(first, subscription('mps/back', 1));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'mps/back', Buffer.alloc(300, 0x62), 1);
    await publishRaw(pub, 'mps/back', 'small', 1);
    assert.equal((await expectPublish(first)).payload.length, 300);
    await expectNothingPending(first, 'receive maximum 1: the small one waits');
    first.send({ type: 14, reasonCode: 0 });
    await first.waitClosed();
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { maximumPacketSize: 100, receiveMaximum: 1, sessionExpiryInterval: 0 } });
    const wire = new WireLog(back);
    assert.equal(back.connack.sessionPresent, true);
    const next = await expectPublish(back);
    assert.deepEqual([next.payload.toString(), next.dup], ['small', false], 'the large one skipped as if delivered; its slot goes to the next');
    assert.ok(wire.frames.every((f) => f.length <= 100));
    await ackRaw(back, next);
    back.close();
    pub.close();
  });

  test('[MQTT-3.1.2-24][MQTT-3.4.2-2][MQTT-3.4.2-3][MQTT-3.5.2-2][MQTT-3.5.2-3][MQTT-3.6.2-2][MQTT-3.6.2-3][MQTT-3.7.2-2][MQTT-3.7.2-3] (v5) acks with failure reasons fit a tiny Maximum Packet Size', async () => {
    const c = await RawClient.open(b.port, 5);
    const wire = new WireLog(c);
    c.send(connectPacket({ properties: { maximumPacketSize: 12 } }));
    assert.equal((await expectPacket(c, 2)).reasonCode, 0);
    const puback = await publishRaw(c, 'tiny/t', Buffer.from([0xff]), 1, { payloadFormatIndicator: 1 });
    assert.equal(puback?.reasonCode, 0x99);
    const pubrec = await publishRaw(c, 'tiny/t', Buffer.from([0xff]), 2, { payloadFormatIndicator: 1 });
    assert.equal(pubrec?.reasonCode, 0x99);
    c.send({ type: 6, packetId: 4000 });
    assert.equal((await expectPacket(c, 7)).reasonCode, 0x92);
    c.send({ type: 5, packetId: 4001 });
    assert.equal((await expectPacket(c, 6)).reasonCode, 0x92);
    assert.ok(wire.frames.length >= 5);
    for (const f of wire.frames) assert.ok(f.length <= 12, `a packet of type ${f[0] >> 4} with ${f.length} bytes`);
    c.close();
  });

  test('[MQTT-3.1.2-24][MQTT-3.9.2-1][MQTT-3.9.2-2][MQTT-3.11.2-1][MQTT-3.11.2-2] (v5) SUBACK and UNSUBACK with failure reasons fit a tiny Maximum Packet Size', async () => {
    const c = await RawClient.open(b.port, 5);
    const wire = new WireLog(c);
    c.send(connectPacket({ properties: { maximumPacketSize: 12 } }));
    await expectPacket(c, 2);
    const suback = await subscribeRaw(c, [subscription('bad/#/x', 1), subscription('$share//x', 1)]);
    assert.deepEqual(suback.reasonCodes, [0x8f, 0x8f]);
    const unsuback = await unsubscribeRaw(c, ['never/subscribed', 'nor/this']);
    assert.deepEqual(unsuback.reasonCodes, [0x11, 0x11]);
    for (const f of wire.frames) assert.ok(f.length <= 12, `a packet of type ${f[0] >> 4} with ${f.length} bytes`);
    c.close();
  });

  test('[MQTT-3.1.2-24][MQTT-3.14.2-3][MQTT-3.14.2-4] (v5) the broker\'s DISCONNECT leaves out its Reason String when it would exceed the client\'s Maximum Packet Size', async () => {
    const roomy = await rawV5(b.port);
    roomy.send(connectPacket());
    const d1 = await expectDisconnect(roomy, 0x82);
    assert.ok(d1.properties?.reasonString !== undefined, 'with room, the DISCONNECT explains itself');
    const c = await RawClient.open(b.port, 5);
    const wire = new WireLog(c);
    c.send(connectPacket({ properties: { maximumPacketSize: 8 } }));
    await expectPacket(c, 2);
    c.send(connectPacket());
    const d2 = await expectDisconnect(c, 0x82);
    assert.equal(d2.properties?.reasonString, undefined);
    for (const f of wire.frames) assert.ok(f.length <= 8, `a packet of type ${f[0] >> 4} with ${f.length} bytes`);
  });

  test('[MQTT-3.1.2-24][MQTT-3.2.2-19][MQTT-3.2.2-20] (v5) a refusing CONNACK leaves out its Reason String when it would exceed the client\'s Maximum Packet Size', async () => {
    const roomy = await connackOf(b.port, { will: { topic: 'bad/#', payload: Buffer.from('x'), qos: 0, retain: false } });
    assert.ok(roomy.connack.reasonCode >= 0x80);
    assert.ok(roomy.connack.properties?.reasonString !== undefined, 'with room, the CONNACK explains itself');
    const c = await RawClient.open(b.port, 5);
    const wire = new WireLog(c);
    c.send(connectPacket({ will: { topic: 'bad/#', payload: Buffer.from('x'), qos: 0, retain: false }, properties: { maximumPacketSize: 8 } }));
    const connack = await expectPacket(c, 2);
    assert.equal(connack.reasonCode, roomy.connack.reasonCode);
    assert.equal(connack.properties?.reasonString, undefined);
    await c.waitClosed();
    for (const f of wire.frames) assert.ok(f.length <= 8, `CONNACK of ${f.length} bytes`);
  });

  test('[MQTT-3.1.2-24] (v5) MQTT.js with a Maximum Packet Size gets the small messages and stays connected', async () => {
    const sub = await connect(b.url, { protocolVersion: 5, properties: { maximumPacketSize: 200 } });
    const inbox = new Inbox(sub);
    await subscribe(sub, 'mpsjs/t', { qos: 1 });
    const pub = await connect(b.url, { protocolVersion: 5 });
    await publish(pub, 'mpsjs/t', Buffer.alloc(500), { qos: 1 });
    await publish(pub, 'mpsjs/t', 'fits', { qos: 1 });
    const [m] = await inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'fits');
    assert.equal(sub.connected, true);
    await end(sub, pub);
  });
});

describe('MQTT 5 Maximum Packet Size of the broker', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({ maximumPacketSize: 1024 });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.2.2-15] (v5) CONNACK announces Maximum Packet Size; a larger PUBLISH gets DISCONNECT 0x95, other clients carry on', async () => {
    const other = await rawV5(b.port);
    await subscribeRaw(other, subscription('big/t', 1));
    const c = await rawV5(b.port);
    assert.equal(c.connack.properties?.maximumPacketSize, 1024);
    await publishRaw(c, 'big/t', Buffer.alloc(900), 1);
    c.send({ type: 3, topic: 'big/t', payload: Buffer.alloc(1100), qos: 1, retain: false, dup: false, packetId: 2 });
    await expectDisconnect(c, 0x95);
    const p = await expectPublish(other);
    assert.equal(p.payload.length, 900);
    await ackRaw(other, p);
    await expectNothingPending(other, 'the oversized message was not forwarded');
    other.close();
  });
});

describe('MQTT 5 session queue quota', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({ queueFullPolicy: 'disconnect', maxQueuedMessages: 3 });
  });
  after(async () => {
    await b.close();
  });

  test('(v5) queueFullPolicy disconnect: a client whose session queue overflows gets DISCONNECT 0x97 quota exceeded', async () => {
    const slow = await rawV5(b.port, { properties: { receiveMaximum: 1 } });
    await subscribeRaw(slow, subscription('quota/t', 1));
    const fast = await rawV5(b.port);
    await subscribeRaw(fast, subscription('quota/t', 0));
    const pub = await rawV5(b.port);
    for (let i = 0; i < 6; i++) await publishRaw(pub, 'quota/t', String(i), 1);
    const first = await expectPublish(slow);
    assert.equal(first.payload.toString(), '0');
    await expectDisconnect(slow, 0x97);
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push((await expectPublish(fast)).payload.toString());
    assert.deepEqual(got, ['0', '1', '2', '3', '4', '5'], 'other subscribers are not affected');
    fast.close();
    pub.close();
  });
});
