// PUBLISH and its acknowledgements, MQTT 5.0 (sections 3.3-3.7, 4.3, 4.7): QoS flows with
// reason codes, properties forwarded unchanged, payload format, message expiry, topic rules.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import type { PublishPacket, UserProperty } from '../../src/protocol/packets.js';
import {
  ackRaw,
  elapse,
  expectDisconnect,
  expectNothingPending,
  expectPacket,
  expectPublish,
  nextPacketId,
  publishRaw,
  rawV5,
  readVarInt,
  subscribeRaw,
  subscription,
  uniqueId,
  WireLog,
} from '../helpers/v5.js';

describe('MQTT 5 PUBLISH', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({
      hooks: { authorizePublish: (_client, packet) => !packet.topic.startsWith('forbidden/') },
    });
  });
  after(async () => {
    await b.close();
  });

  async function subscriber(filter: string, qos: 0 | 1 | 2 = 2, fields = {}): Promise<RawClient> {
    const c = await rawV5(b.port, fields);
    await subscribeRaw(c, subscription(filter, qos));
    return c;
  }

  test('[MQTT-2.2.1-2][MQTT-2.2.2-1][MQTT-4.3.1-1][MQTT-3.3.1-2] (v5) a QoS 0 PUBLISH is sent with DUP 0, no packet id and a Property Length of 0', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('bytes/q0', 0));
    const wire = new WireLog(sub);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'bytes/q0', 'hi', 0);
    await expectPublish(sub);
    const frame = wire.ofType(3)[0];
    // 0x30 | remaining 11 | topic "bytes/q0" | property length 0 | "hi"
    assert.deepEqual([...frame], [0x30, 13, 0x00, 0x08, ...Buffer.from('bytes/q0'), 0x00, ...Buffer.from('hi')]);
    sub.close();
    pub.close();
  });

  test('[MQTT-1.5.5-1][MQTT-2.2.1-4][MQTT-4.3.2-1][MQTT-4.3.2-2] (v5) a QoS 1 PUBLISH to a subscriber: non-zero unused packet ids, QoS 1, DUP 0, lengths in the fewest bytes', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('bytes/q1', 1), { subscriptionIdentifiers: [200] });
    const wire = new WireLog(sub);
    const pub = await rawV5(b.port);
    const payload = Buffer.alloc(150, 0x61);
    await publishRaw(pub, 'bytes/q1', payload, 1);
    await publishRaw(pub, 'bytes/q1', payload, 1);
    const p1 = await expectPublish(sub);
    const p2 = await expectPublish(sub);
    assert.ok(p1.packetId! > 0 && p2.packetId! > 0);
    assert.notEqual(p1.packetId, p2.packetId, 'two messages in flight never share an id');
    for (const p of [p1, p2]) assert.deepEqual([p.qos, p.dup], [1, false]);
    const frame = wire.ofType(3)[0];
    assert.equal(frame[0], 0x32);
    const remaining = readVarInt(frame, 1);
    assert.equal(remaining.value, frame.length - 1 - remaining.length);
    assert.equal(remaining.length, 2, 'a remaining length below 16384 takes two bytes');
    // topic, packet id, then the properties: their length and the Subscription Identifier 200 (two bytes).
    const propsAt = 1 + remaining.length + 2 + 'bytes/q1'.length + 2;
    assert.deepEqual(readVarInt(frame, propsAt), { value: 3, length: 1 });
    assert.deepEqual([...frame.subarray(propsAt + 1, propsAt + 4)], [0x0b, 0xc8, 0x01]);
    sub.close();
    pub.close();
  });

  test('[MQTT-3.3.4-1][MQTT-4.3.2-4][MQTT-2.2.1-5][MQTT-3.4.2-1] (v5) QoS 1 from a client: PUBACK 0x00 with the same packet id', async () => {
    const sub = await subscriber('acks/q1', 0);
    const pub = await rawV5(b.port);
    pub.send({ type: 3, topic: 'acks/q1', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: 4321 });
    const ack = await expectPacket(pub, 4);
    assert.equal(ack.packetId, 4321);
    assert.equal(ack.reasonCode ?? 0, 0);
    sub.close();
    pub.close();
  });

  test('[MQTT-3.4.2-1][MQTT-3.5.2-1] (v5) a message nobody subscribes to: PUBACK / PUBREC 0x00 or 0x10 no matching subscribers', async () => {
    const pub = await rawV5(b.port);
    for (const qos of [1, 2] as const) {
      const ack = await publishRaw(pub, 'acks/nobody', 'x', qos);
      assert.ok([0x00, 0x10].includes(ack?.reasonCode ?? 0), `reason 0x${(ack?.reasonCode ?? 0).toString(16)}`);
    }
    pub.close();
  });

  test('[MQTT-4.3.2-5] (v5) after its PUBACK, a PUBLISH with the same id (DUP 1) is a new message and is delivered again', async () => {
    const sub = await subscriber('acks/again', 1);
    const pub = await rawV5(b.port);
    for (const dup of [false, true]) {
      pub.send({ type: 3, topic: 'acks/again', payload: Buffer.from('same id'), qos: 1, retain: false, dup, packetId: 7 });
      assert.equal((await expectPacket(pub, 4)).packetId, 7);
    }
    const first = await expectPublish(sub);
    await ackRaw(sub, first);
    const second = await expectPublish(sub);
    assert.equal(second.payload.toString(), 'same id');
    sub.close();
    pub.close();
  });

  test('[MQTT-4.3.3-8][MQTT-4.3.3-10][MQTT-4.3.3-11][MQTT-4.3.3-12][MQTT-3.5.2-1][MQTT-3.7.2-1] (v5) QoS 2 from a client: PUBREC, duplicates not forwarded twice, PUBCOMP, then the id is free', async () => {
    const sub = await subscriber('acks/q2', 2);
    const pub = await rawV5(b.port);
    const packet: PublishPacket = { type: 3, topic: 'acks/q2', payload: Buffer.from('once'), qos: 2, retain: false, dup: false, packetId: 55 };
    pub.send(packet);
    const rec = await expectPacket(pub, 5);
    assert.deepEqual([rec.packetId, rec.reasonCode ?? 0], [55, 0]);
    pub.send({ ...packet, dup: true });
    const rec2 = await expectPacket(pub, 5);
    assert.equal(rec2.packetId, 55, 'a repeated PUBLISH before PUBREL gets another PUBREC');
    pub.send({ type: 6, packetId: 55 });
    const comp = await expectPacket(pub, 7);
    assert.deepEqual([comp.packetId, comp.reasonCode ?? 0], [55, 0]);
    const got = await expectPublish(sub);
    assert.equal(got.payload.toString(), 'once');
    await ackRaw(sub, got);
    await expectNothingPending(sub, 'the duplicate was not forwarded');
    pub.send({ ...packet, payload: Buffer.from('new') });
    assert.equal((await expectPacket(pub, 5)).packetId, 55);
    pub.send({ type: 6, packetId: 55 });
    await expectPacket(pub, 7);
    assert.equal((await expectPublish(sub)).payload.toString(), 'new', 'after PUBCOMP the id starts a new message');
    sub.close();
    pub.close();
  });

  test('[MQTT-4.3.3-1][MQTT-4.3.3-2][MQTT-4.3.3-4][MQTT-3.6.2-1] (v5) QoS 2 to a subscriber: PUBLISH QoS 2 DUP 0, PUBREC answered by PUBREL 0x00 with the same id', async () => {
    const sub = await subscriber('acks/out2', 2);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'acks/out2', 'x', 2);
    const p = await expectPublish(sub);
    assert.deepEqual([p.qos, p.dup], [2, false]);
    assert.ok(p.packetId! > 0);
    sub.send({ type: 5, packetId: p.packetId! });
    const rel = await expectPacket(sub, 6);
    assert.deepEqual([rel.packetId, rel.reasonCode ?? 0], [p.packetId, 0]);
    sub.send({ type: 7, packetId: p.packetId! });
    await expectNothingPending(sub);
    sub.close();
    pub.close();
  });

  test('(v5) PUBREL for an unknown packet id: PUBCOMP 0x92 packet identifier not found', async () => {
    const pub = await rawV5(b.port);
    pub.send({ type: 6, packetId: 999 });
    const comp = await expectPacket(pub, 7);
    assert.deepEqual([comp.packetId, comp.reasonCode], [999, 0x92]);
    pub.close();
  });

  test('(v5) PUBREC for an unknown packet id: PUBREL 0x92 packet identifier not found', async () => {
    const c = await rawV5(b.port);
    c.send({ type: 5, packetId: 998 });
    const rel = await expectPacket(c, 6);
    assert.deepEqual([rel.packetId, rel.reasonCode], [998, 0x92]);
    c.close();
  });

  test('(v5) a PUBLISH the authorizePublish hook refuses: PUBACK / PUBREC 0x87, not forwarded, connection kept', async () => {
    const sub = await subscriber('forbidden/#', 2);
    const pub = await rawV5(b.port);
    assert.equal((await publishRaw(pub, 'forbidden/a', 'x', 1))?.reasonCode, 0x87);
    assert.equal((await publishRaw(pub, 'forbidden/b', 'x', 2))?.reasonCode, 0x87);
    await expectNothingPending(sub);
    await expectNothingPending(pub, 'still connected');
    sub.close();
    pub.close();
  });

  test('[MQTT-4.3.3-9] (v5) after a PUBREC of 0x80 or above, a PUBLISH with that id is a new message', async () => {
    const sub = await subscriber('pfi/q2', 2);
    const pub = await rawV5(b.port);
    pub.send({ type: 3, topic: 'pfi/q2', payload: Buffer.from([0xc3, 0x28]), qos: 2, retain: false, dup: false, packetId: 31, properties: { payloadFormatIndicator: 1 } });
    const rec = await expectPacket(pub, 5);
    assert.deepEqual([rec.packetId, rec.reasonCode], [31, 0x99]);
    pub.send({ type: 3, topic: 'pfi/q2', payload: Buffer.from('valid'), qos: 2, retain: false, dup: false, packetId: 31, properties: { payloadFormatIndicator: 1 } });
    assert.deepEqual([(await expectPacket(pub, 5)).reasonCode ?? 0], [0]);
    pub.send({ type: 6, packetId: 31 });
    await expectPacket(pub, 7);
    const got = await expectPublish(sub);
    assert.equal(got.payload.toString(), 'valid');
    sub.close();
    pub.close();
  });

  test('[MQTT-3.3.2-4] (v5) Payload Format Indicator 1 with invalid UTF-8: PUBACK 0x99, not forwarded, connection kept; valid UTF-8 is forwarded with the indicator', async () => {
    const sub = await subscriber('pfi/q1', 1);
    const pub = await rawV5(b.port);
    const bad = await publishRaw(pub, 'pfi/q1', Buffer.from([0xed, 0xa0, 0x80]), 1, { payloadFormatIndicator: 1 });
    assert.equal(bad?.reasonCode, 0x99);
    await publishRaw(pub, 'pfi/q1', 'héllo', 1, { payloadFormatIndicator: 1 });
    await publishRaw(pub, 'pfi/q1', Buffer.from([0xff]), 1, { payloadFormatIndicator: 0 });
    const first = await expectPublish(sub);
    assert.equal(first.payload.toString(), 'héllo');
    assert.equal(first.properties?.payloadFormatIndicator, 1);
    await ackRaw(sub, first);
    const second = await expectPublish(sub);
    assert.deepEqual([...second.payload], [0xff]);
    assert.equal(second.properties?.payloadFormatIndicator, 0);
    sub.close();
    pub.close();
  });

  test('[MQTT-3.3.2-15][MQTT-3.3.2-16][MQTT-3.3.2-17][MQTT-3.3.2-18][MQTT-3.3.2-20] (v5) Response Topic, Correlation Data, Content Type and User Properties reach every subscriber unchanged and in order', async () => {
    const userProperties: UserProperty[] = [['b', '2'], ['a', '1'], ['b', '3'], ['x', ''], ['a', '1']];
    const properties = {
      responseTopic: 'reply/to/me',
      correlationData: Buffer.from([0, 1, 2, 0xff]),
      contentType: 'application/json; charset=utf-8',
      userProperties,
    };
    const s0 = await subscriber('props/t', 0);
    const s2 = await subscriber('props/t', 2);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'props/t', '{}', 2, properties);
    for (const s of [s0, s2]) {
      const p = await expectPublish(s);
      assert.equal(p.properties?.responseTopic, properties.responseTopic);
      assert.deepEqual(p.properties?.correlationData, properties.correlationData);
      assert.equal(p.properties?.contentType, properties.contentType);
      assert.deepEqual(p.properties?.userProperties, userProperties);
      assert.equal(p.properties?.messageExpiryInterval, undefined, 'no expiry was set');
      s.close();
    }
    pub.close();
  });

  test('[MQTT-3.3.2-15][MQTT-3.3.2-16][MQTT-3.3.2-17] (v5) request / response with MQTT.js: the responder answers on the Response Topic with the Correlation Data', async () => {
    const requester = await connect(b.url, { protocolVersion: 5 });
    const responder = await connect(b.url, { protocolVersion: 5 });
    const requests = new Inbox(responder);
    const replies = new Inbox(requester);
    await subscribe(responder, 'service/echo', { qos: 1 });
    await subscribe(requester, 'replies/requester-1', { qos: 1 });
    await publish(requester, 'service/echo', 'ping', {
      qos: 1,
      properties: { responseTopic: 'replies/requester-1', correlationData: Buffer.from('req-42'), userProperties: { trace: ['t1', 't2'] } },
    });
    const [req] = await requests.waitFor(1);
    assert.equal(req.packet.properties?.responseTopic, 'replies/requester-1');
    assert.deepEqual({ ...req.packet.properties?.userProperties }, { trace: ['t1', 't2'] });
    await publish(responder, req.packet.properties!.responseTopic!, 'pong', { qos: 1, properties: { correlationData: req.packet.properties!.correlationData } });
    const [reply] = await replies.waitFor(1);
    assert.equal(reply.payload.toString(), 'pong');
    assert.deepEqual(reply.packet.properties?.correlationData, Buffer.from('req-42'));
    await end(requester, responder);
  });

  test('[MQTT-4.4.0-2] (v5) a PUBACK or PUBREC with 0x80 or above from a subscriber ends the delivery: nothing is re-sent', async () => {
    const clientId = uniqueId('negack');
    const sub = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(sub, [subscription('negack/1', 1), subscription('negack/2', 2)]);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'negack/1', 'q1', 1);
    await publishRaw(pub, 'negack/2', 'q2', 2);
    const p1 = await expectPublish(sub);
    const p2 = await expectPublish(sub);
    sub.send({ type: 4, packetId: p1.packetId!, reasonCode: 0x80 });
    sub.send({ type: 5, packetId: p2.packetId!, reasonCode: 0x87 });
    await expectNothingPending(sub, 'no PUBREL after a failed PUBREC');
    sub.close();
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 0 } });
    assert.equal(back.connack.sessionPresent, true);
    await expectNothingPending(back, 'refused messages are not re-sent');
    back.close();
    pub.close();
  });

  test('[MQTT-3.3.2-3] (v5) the topic of a forwarded PUBLISH is the published topic name, which matches the filter', async () => {
    const sub = await subscriber('match/+/x/#', 1);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'match/a/x', 'one', 1);
    await publishRaw(pub, 'match/b/y', 'not matched', 1);
    await publishRaw(pub, 'match/c/x/d/e', 'two', 1);
    const a = await expectPublish(sub);
    await ackRaw(sub, a);
    const c = await expectPublish(sub);
    await ackRaw(sub, c);
    assert.deepEqual([a.topic, c.topic], ['match/a/x', 'match/c/x/d/e']);
    await expectNothingPending(sub);
    sub.close();
    pub.close();
  });

  test('[MQTT-4.7.2-1] (v5) filters starting with # or + do not match topics starting with $', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, [subscription('#', 0, { retainHandling: 2 }), subscription('+/dollar', 0), subscription('$app/dollar', 0)]);
    const pub = await rawV5(b.port);
    await publishRaw(pub, '$app/dollar', 'x', 1);
    const p = await expectPublish(sub);
    assert.equal(p.topic, '$app/dollar');
    assert.equal(p.properties?.subscriptionIdentifiers, undefined);
    await expectNothingPending(sub, 'one copy, through the $app/dollar filter only');
    sub.close();
    pub.close();
  });

  test('[MQTT-1.5.4-3][MQTT-4.7.3-4] (v5) topics are matched byte for byte: U+FEFF is kept, no Unicode normalization', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, [subscription('utf/a\uFEFFb', 1), subscription('utf/caf\u00e9', 1)]);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'utf/ab', 'no BOM', 1);
    await publishRaw(pub, 'utf/cafe\u0301', 'decomposed', 1);
    await publishRaw(pub, 'utf/a\uFEFFb', 'with BOM', 1);
    const p = await expectPublish(sub);
    assert.equal(p.topic, 'utf/a\uFEFFb');
    assert.equal(p.payload.toString(), 'with BOM');
    await ackRaw(sub, p);
    await expectNothingPending(sub);
    sub.close();
    pub.close();
  });

  test('[MQTT-3.3.4-6] (v5) a PUBLISH from a client carrying a Subscription Identifier: DISCONNECT 0x82', async () => {
    const c = await rawV5(b.port);
    c.send({ type: 3, topic: 'subid/in', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { subscriptionIdentifiers: [3] } });
    await expectDisconnect(c, 0x82);
  });

  test('[MQTT-4.3.3-3] (v5) MQTT.js QoS 2 both ways through the broker', async () => {
    const sub = await connect(b.url, { protocolVersion: 5 });
    const inbox = new Inbox(sub);
    await subscribe(sub, 'js/q2', { qos: 2 });
    const pub = await connect(b.url, { protocolVersion: 5 });
    for (let i = 0; i < 5; i++) await publish(pub, 'js/q2', `m${i}`, { qos: 2 });
    const got = await inbox.waitFor(5);
    assert.deepEqual(got.map((m) => m.payload.toString()), ['m0', 'm1', 'm2', 'm3', 'm4']);
    assert.ok(got.every((m) => m.packet.qos === 2));
    await end(sub, pub);
  });

  test('(v5) packet ids of PUBLISH the client sends and of those it receives are independent', async () => {
    const c = await rawV5(b.port);
    await subscribeRaw(c, subscription('ids/self', 1));
    const id = nextPacketId();
    c.send({ type: 3, topic: 'ids/self', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: id });
    const got: number[] = [];
    for (let i = 0; i < 2; i++) {
      const p = await c.next();
      got.push(p.type);
      if (p.type === 3) c.send({ type: 4, packetId: p.packetId! });
    }
    assert.deepEqual(got.sort(), [3, 4]);
    c.close();
  });
});

describe('MQTT 5 topic name errors', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.3.2-2][MQTT-4.7.0-1] (v5) a wildcard in a PUBLISH topic: DISCONNECT 0x90 topic name invalid', async () => {
    for (const topic of ['a/+', 'a/#', '+']) {
      const c = await rawV5(b.port);
      c.send({ type: 3, topic, payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
      await expectDisconnect(c, 0x90);
    }
  });

  test('[MQTT-4.7.3-1] (v5) an empty topic without a Topic Alias is a protocol error: DISCONNECT, closed', async () => {
    const c = await rawV5(b.port);
    c.send({ type: 3, topic: '', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    const d = await expectPacket(c, 14);
    assert.ok([0x82, 0x90].includes(d.reasonCode ?? 0), `reason 0x${(d.reasonCode ?? 0).toString(16)}`);
    await c.waitClosed();
  });

  test('[MQTT-1.5.4-1][MQTT-3.3.2-1] (v5) ill-formed UTF-8 in a topic: DISCONNECT 0x81 malformed packet', async () => {
    const c = await rawV5(b.port);
    c.sendBytes([0x30, 0x05, 0x00, 0x02, 0xc3, 0x28, 0x00]);
    await expectDisconnect(c, 0x81);
  });

  test('[MQTT-1.5.4-2][MQTT-4.7.3-2] (v5) U+0000 in a topic: DISCONNECT 0x81 malformed packet', async () => {
    const c = await rawV5(b.port);
    c.sendBytes([0x30, 0x06, 0x00, 0x03, 0x61, 0x00, 0x62, 0x00]);
    await expectDisconnect(c, 0x81);
  });

  test('[MQTT-1.5.7-1][MQTT-3.3.2-19] (v5) a User Property or Content Type with U+0000 or ill-formed UTF-8: DISCONNECT 0x81', async () => {
    // PUBLISH "t", property length 7: User Property (0x26) name "a" value "\0"
    const badPair = [0x30, 0x0c, 0x00, 0x01, 0x74, 0x07, 0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00, 0x78];
    // PUBLISH "t", property length 5: Content Type (0x03) "\xc3\x28"
    const badType = [0x30, 0x09, 0x00, 0x01, 0x74, 0x05, 0x03, 0x00, 0x02, 0xc3, 0x28];
    for (const bytes of [badPair, badType]) {
      const c = await rawV5(b.port);
      c.sendBytes(bytes);
      await expectDisconnect(c, 0x81);
    }
  });

  test('[MQTT-3.3.2-14] (v5) a Response Topic with a wildcard is not forwarded: the PUBLISH is refused (failure PUBACK or DISCONNECT)', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('rt/t', 1));
    const c = await rawV5(b.port);
    c.send({ type: 3, topic: 'rt/t', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: 1, properties: { responseTopic: 'replies/#' } });
    const answer = await c.next();
    assert.ok(answer.type === 4 || answer.type === 14, `PUBACK or DISCONNECT, got ${JSON.stringify(answer)}`);
    assert.ok((answer.reasonCode ?? 0) >= 0x80, `a failure reason, got 0x${(answer.reasonCode ?? 0).toString(16)}`);
    await expectNothingPending(sub, 'a Response Topic with a wildcard is never forwarded');
    sub.close();
    c.close();
  });

  test('[MQTT-3.3.2-13] (v5) a Response Topic of ill-formed UTF-8: DISCONNECT 0x81', async () => {
    const c = await rawV5(b.port);
    // PUBLISH "t", property length 5: Response Topic (0x08) "\xc3\x28"
    c.sendBytes([0x30, 0x09, 0x00, 0x01, 0x74, 0x05, 0x08, 0x00, 0x02, 0xc3, 0x28]);
    await expectDisconnect(c, 0x81);
  });
});

describe('MQTT 5 message expiry', { concurrency: true }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.3.2-6] (v5) the Message Expiry Interval forwarded is what remains after the wait in the broker', async () => {
    const clientId = uniqueId('expiry-fwd');
    const sub = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(sub, subscription('expiry/fwd', 1));
    const live = await rawV5(b.port);
    await subscribeRaw(live, subscription('expiry/fwd', 1));
    sub.send({ type: 14, reasonCode: 0 });
    await sub.waitClosed();
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'expiry/fwd', 'ten seconds', 1, { messageExpiryInterval: 10 });
    const now = await expectPublish(live);
    assert.equal(now.properties?.messageExpiryInterval, 10, 'delivered at once: the whole interval');
    await elapse(1100);
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 0 } });
    const later = await expectPublish(back);
    const remaining = later.properties?.messageExpiryInterval;
    assert.ok(remaining !== undefined && remaining <= 9 && remaining >= 8, `forwarded expiry ${remaining}, expected 9 or less`);
    back.close();
    live.close();
    pub.close();
  });

  test('[MQTT-3.3.2-5] (v5) a message that expires while queued for an offline session is not delivered', async () => {
    const clientId = uniqueId('expiry-drop');
    const sub = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(sub, subscription('expiry/drop', 1));
    sub.send({ type: 14, reasonCode: 0 });
    await sub.waitClosed();
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'expiry/drop', 'short', 1, { messageExpiryInterval: 1 });
    await publishRaw(pub, 'expiry/drop', 'long', 1, { messageExpiryInterval: 30 });
    await publishRaw(pub, 'expiry/drop', 'forever', 1);
    await elapse(1100);
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 0 } });
    const first = await expectPublish(back);
    await ackRaw(back, first);
    const second = await expectPublish(back);
    await ackRaw(back, second);
    assert.deepEqual([first.payload.toString(), second.payload.toString()], ['long', 'forever']);
    assert.equal(second.properties?.messageExpiryInterval, undefined);
    await expectNothingPending(back);
    back.close();
    pub.close();
  });

  test('[MQTT-3.3.2-5] (v5) an expired retained message is not delivered to a new subscriber', async () => {
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'expiry/retained', 'short', 1, { messageExpiryInterval: 1 }, true);
    await publishRaw(pub, 'expiry/retained2', 'long', 1, { messageExpiryInterval: 30 }, true);
    await elapse(1100);
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('expiry/retained', 1));
    await expectNothingPending(sub, 'the expired retained message is gone');
    await subscribeRaw(sub, subscription('expiry/retained2', 1));
    const p = await expectPublish(sub);
    assert.equal(p.payload.toString(), 'long');
    assert.ok(p.retain);
    assert.ok((p.properties?.messageExpiryInterval ?? 99) <= 29, 'retained: the remaining expiry');
    sub.close();
    pub.close();
  });

  test('[MQTT-4.3.3-13] (v5) the QoS 2 acknowledgement sequence completes even after the message expired', async () => {
    const pub = await rawV5(b.port);
    pub.send({ type: 3, topic: 'expiry/q2', payload: Buffer.from('x'), qos: 2, retain: false, dup: false, packetId: 12, properties: { messageExpiryInterval: 1 } });
    await expectPacket(pub, 5);
    await elapse(1100);
    pub.send({ type: 6, packetId: 12 });
    const comp = await expectPacket(pub, 7);
    assert.deepEqual([comp.packetId, comp.reasonCode ?? 0], [12, 0]);
    pub.close();
  });
});
