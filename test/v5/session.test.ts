// Clean Start, Session Expiry Interval and redelivery, MQTT 5.0 (sections 3.1.2.4, 3.1.2.11.2,
// 3.14.2.2.2, 4.1, 4.4).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { until } from '../helpers/wait.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import {
  elapse,
  expectDisconnect,
  expectNothingPending,
  expectPacket,
  expectPublish,
  publishRaw,
  rawV5,
  subscribeRaw,
  subscription,
  uniqueId,
} from '../helpers/v5.js';

describe('MQTT 5 sessions', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({ maxQueuedMessages: 1000 });
  });
  after(async () => {
    await b.close();
  });

  /** Connects, subscribes, and leaves with DISCONNECT 0x00: a session kept for `expiry` seconds. */
  async function leaveSession(clientId: string, filter: string, expiry: number): Promise<void> {
    const c = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: expiry } });
    await subscribeRaw(c, subscription(filter, 2));
    c.send({ type: 14, reasonCode: 0 });
    await c.waitClosed();
  }

  test('[MQTT-3.1.2-4][MQTT-3.2.2-2][MQTT-3.1.4-4] (v5) Clean Start 1 discards the stored session: session present 0, its subscriptions and queued messages are gone', async () => {
    const clientId = uniqueId('clean');
    await leaveSession(clientId, 'cs/t', 60);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'cs/t', 'queued', 1);
    const c = await rawV5(b.port, { clientId, cleanStart: true, properties: { sessionExpiryInterval: 60 } });
    assert.equal(c.connack.sessionPresent, false);
    await expectNothingPending(c, 'the queued message went with the old session');
    await publishRaw(pub, 'cs/t', 'after', 1);
    await expectNothingPending(c, 'the old subscription went with the old session');
    assert.equal(b.broker.core.sessions.get(clientId)?.subscriptions.size, 0);
    c.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    pub.close();
  });

  test('[MQTT-3.1.2-5][MQTT-3.2.2-3][MQTT-3.1.2-23][MQTT-4.5.0-1][MQTT-4.1.0-1] (v5) Clean Start 0 resumes the session: session present 1, messages queued while offline arrive in order', async () => {
    const clientId = uniqueId('resume');
    await leaveSession(clientId, 'rs/#', 60);
    const pub = await rawV5(b.port);
    for (let i = 0; i < 10; i++) await publishRaw(pub, `rs/${i % 2}`, `m${i}`, 1);
    await publishRaw(pub, 'rs/0', 'qos0 is not kept for an offline session', 0);
    const c = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 60 } });
    assert.equal(c.connack.sessionPresent, true);
    const got: string[] = [];
    for (let i = 0; i < 10; i++) {
      const p = await expectPublish(c);
      got.push(p.payload.toString());
      c.send({ type: 4, packetId: p.packetId! });
    }
    assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `m${i}`));
    await expectNothingPending(c);
    c.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    pub.close();
  });

  test('[MQTT-3.1.2-6][MQTT-3.2.2-3] (v5) Clean Start 0 without a stored session starts a new one: session present 0', async () => {
    const c = await rawV5(b.port, { clientId: uniqueId('nosession'), cleanStart: false });
    assert.equal(c.connack.sessionPresent, false);
    c.close();
  });

  test('[MQTT-4.1.0-2] (v5) without a Session Expiry Interval the session ends with the connection', async () => {
    const clientId = uniqueId('expiry0');
    const c = await rawV5(b.port, { clientId });
    await subscribeRaw(c, subscription('e0/t', 1));
    c.close();
    await until(() => !b.broker.core.sessions.has(clientId), 2000, 'the session to end');
    const back = await rawV5(b.port, { clientId, cleanStart: false });
    assert.equal(back.connack.sessionPresent, false);
    back.close();
  });

  test('(v5) Session Expiry Interval 0xFFFFFFFF: the session does not expire', async () => {
    const clientId = uniqueId('forever');
    await leaveSession(clientId, 'forever/t', 0xffffffff);
    const session = b.broker.core.sessions.get(clientId);
    assert.ok(session !== undefined);
    assert.equal(session.expiryTimer, undefined, 'no expiry timer for a session that never expires');
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 0xffffffff } });
    assert.equal(back.connack.sessionPresent, true);
    assert.equal(back.connack.properties?.sessionExpiryInterval, undefined, 'the broker keeps the interval asked for');
    back.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    await back.waitClosed();
  });

  test('(v5) DISCONNECT with Session Expiry 0 after 60 at CONNECT ends the session at once', async () => {
    const clientId = uniqueId('dis0');
    const c = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(c, subscription('dis0/t', 1));
    c.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    await c.waitClosed();
    await until(() => !b.broker.core.sessions.has(clientId), 2000, 'the session to end');
    const back = await rawV5(b.port, { clientId, cleanStart: false });
    assert.equal(back.connack.sessionPresent, false);
    back.close();
  });

  test('[MQTT-3.14.2-2][MQTT-4.13.1-1] (v5) a non-zero Session Expiry on DISCONNECT after 0 at CONNECT is a protocol error: DISCONNECT 0x82, no Session Expiry in it, session not kept', async () => {
    const clientId = uniqueId('dis-err');
    const c = await rawV5(b.port, { clientId });
    await subscribeRaw(c, subscription('diserr/t', 1));
    c.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 30 } });
    const d = await expectDisconnect(c, 0x82);
    assert.equal(d.properties?.sessionExpiryInterval, undefined);
    const back = await rawV5(b.port, { clientId, cleanStart: false });
    assert.equal(back.connack.sessionPresent, false, 'the session still ended with its connection');
    back.close();
  });

  test('[MQTT-4.4.0-1][MQTT-3.3.1-1][MQTT-4.3.2-3][MQTT-4.3.3-3][MQTT-4.3.3-5][MQTT-4.3.3-6] (v5) unacknowledged PUBLISH and PUBREL are re-sent on reconnect with their ids, PUBLISH with DUP 1', async () => {
    const clientId = uniqueId('redeliver');
    const sub = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(sub, subscription('rd5/#', 2));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'rd5/1', 'one', 1);
    await publishRaw(pub, 'rd5/2', 'two', 2);
    await publishRaw(pub, 'rd5/3', 'three', 2);
    const first = await expectPublish(sub);
    const second = await expectPublish(sub);
    const third = await expectPublish(sub);
    sub.send({ type: 5, packetId: third.packetId! });
    const rel = await expectPacket(sub, 6);
    assert.equal(rel.packetId, third.packetId);
    sub.close();

    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 60 } });
    assert.equal(back.connack.sessionPresent, true);
    const r1 = await expectPublish(back);
    const r2 = await expectPublish(back);
    const r3 = await expectPacket(back, 6);
    assert.deepEqual([r1.packetId, r1.dup, r1.qos, r1.payload.toString()], [first.packetId, true, 1, 'one']);
    assert.deepEqual([r2.packetId, r2.dup, r2.qos, r2.payload.toString()], [second.packetId, true, 2, 'two']);
    assert.equal(r3.packetId, third.packetId, 'PUBREL re-sent, not the PUBLISH it released');
    back.send({ type: 4, packetId: r1.packetId! });
    back.send({ type: 5, packetId: r2.packetId! });
    assert.equal((await expectPacket(back, 6)).packetId, r2.packetId);
    back.send({ type: 7, packetId: r2.packetId! });
    back.send({ type: 7, packetId: r3.packetId });
    await expectNothingPending(back);
    back.send({ type: 14, reasonCode: 0 });
    await back.waitClosed();
    // Everything was acknowledged: nothing is sent again on the next connection.
    const third2 = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 0 } });
    assert.equal(third2.connack.sessionPresent, true);
    await expectNothingPending(third2, 'acknowledged messages are not re-sent');
    third2.close();
    pub.close();
  });

  test('[MQTT-3.3.1-3] (v5) a PUBLISH that arrives with DUP 1 is forwarded with DUP 0', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('dup5/t', 1));
    const pub = await rawV5(b.port);
    pub.send({ type: 3, topic: 'dup5/t', payload: Buffer.from('x'), qos: 1, retain: false, dup: true, packetId: 9 });
    assert.equal((await expectPacket(pub, 4)).packetId, 9);
    const p = await expectPublish(sub);
    assert.equal(p.dup, false);
    sub.close();
    pub.close();
  });

  test('[MQTT-4.6.0-5][MQTT-4.6.0-6][MQTT-4.2.0-1] (v5) messages of one topic and QoS from one client arrive in the order sent, none lost', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, [subscription('order5/a', 1), subscription('order5/b', 0)]);
    const pub = await rawV5(b.port);
    for (let i = 0; i < 40; i++) {
      pub.send({ type: 3, topic: i % 2 === 0 ? 'order5/a' : 'order5/b', payload: Buffer.from(String(i)), qos: i % 2 === 0 ? 1 : 0, retain: false, dup: false, ...(i % 2 === 0 ? { packetId: 100 + i } : {}) });
    }
    const a: number[] = [];
    const bb: number[] = [];
    for (let i = 0; i < 40; i++) {
      const p = await expectPublish(sub);
      (p.topic === 'order5/a' ? a : bb).push(Number(p.payload.toString()));
      if (p.qos === 1) sub.send({ type: 4, packetId: p.packetId! });
    }
    assert.deepEqual(a, Array.from({ length: 20 }, (_, i) => i * 2));
    assert.deepEqual(bb, Array.from({ length: 20 }, (_, i) => i * 2 + 1));
    sub.close();
    pub.close();
  });
});

describe('MQTT 5 session expiry over time', { concurrency: true }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-4.1.0-2][MQTT-3.1.2-23] (v5) a session with expiry 1 s survives a quick reconnect, and is discarded about 1 s after its connection ends', async () => {
    const clientId = uniqueId('exp1');
    const c = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 1 } });
    await subscribeRaw(c, subscription('exp1/t', 1));
    c.close();
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 1 } });
    assert.equal(back.connack.sessionPresent, true, 'reconnected well within the expiry');
    const left = Date.now();
    back.close();
    await until(() => !b.broker.core.sessions.has(clientId), 3000, 'the session to expire');
    const elapsed = Date.now() - left;
    assert.ok(elapsed >= 900, `session discarded after ${elapsed} ms, before its 1 s expiry`);
    const last = await rawV5(b.port, { clientId, cleanStart: false });
    assert.equal(last.connack.sessionPresent, false);
    last.close();
  });

  test('(v5) DISCONNECT can shorten the expiry: 60 at CONNECT, 1 at DISCONNECT, the session is gone about 1 s later', async () => {
    const clientId = uniqueId('exp-dis');
    const c = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(c, subscription('expdis/t', 1));
    const left = Date.now();
    c.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 1 } });
    await c.waitClosed();
    await until(() => !b.broker.core.sessions.has(clientId), 3000, 'the session to expire');
    assert.ok(Date.now() - left >= 900);
  });

  test('(v5) maxSessionExpiryInterval: a longer request is lowered and CONNACK says so', async () => {
    const capped = await startBroker({ maxSessionExpiryInterval: 1 });
    try {
      const clientId = uniqueId('capped');
      const c = await rawV5(capped.port, { clientId, properties: { sessionExpiryInterval: 0xffffffff } });
      assert.equal(c.connack.properties?.sessionExpiryInterval, 1);
      const left = Date.now();
      c.close();
      await until(() => !capped.broker.core.sessions.has(clientId), 3000, 'the session to expire');
      assert.ok(Date.now() - left >= 900);
    } finally {
      await capped.close();
    }
  });

  test('[MQTT-4.3.3-7] (v5) a QoS 2 message already sent is not expired: it is re-sent after its Message Expiry Interval has passed', async () => {
    const clientId = uniqueId('q2exp');
    const sub = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(sub, subscription('q2exp/t', 2));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'q2exp/t', 'short-lived', 2, { messageExpiryInterval: 1 });
    const first = await expectPublish(sub);
    sub.close();
    await elapse(1200);
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 0 } });
    const again: PublishPacket = await expectPublish(back);
    assert.deepEqual([again.packetId, again.dup, again.payload.toString()], [first.packetId, true, 'short-lived']);
    back.close();
    pub.close();
  });
});
