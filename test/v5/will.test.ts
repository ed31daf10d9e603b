// The last will, MQTT 5.0 (sections 3.1.2.5-3.1.2.7, 3.1.3.2, 3.14.4): will properties, Will
// Delay Interval, DISCONNECT with reason 0x04.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, drop, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import type { UserProperty, Will } from '../../src/protocol/packets.js';
import { elapse, expectDisconnect, expectPublish, rawV5, subscribeRaw, subscription, uniqueId } from '../helpers/v5.js';

async function watcher(b: TestBroker, filter: string): Promise<{ inbox: Inbox; close: () => Promise<void>; probe: (topic: string) => Promise<void> }> {
  const w = await connect(b.url, { protocolVersion: 5 });
  const inbox = new Inbox(w);
  await subscribe(w, filter, { qos: 1 });
  return {
    inbox,
    close: () => end(w),
    probe: (topic) => publish(w, topic, 'probe', { qos: 1 }).then(() => undefined),
  };
}

const will = (topic: string, payload: string, fields: Partial<Will> = {}): Will => ({ topic, payload: Buffer.from(payload), qos: 1, retain: false, ...fields });

describe('MQTT 5 last will', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.1.2-7][MQTT-3.1.2-8][MQTT-3.1.2-14] (v5) the will is published, not retained, when the connection drops', async () => {
    const w = await watcher(b, 'will5/drop');
    const c = await connect(b.url, { protocolVersion: 5, will: { topic: 'will5/drop', payload: Buffer.from('gone'), qos: 1, retain: false } });
    drop(c);
    const [m] = await w.inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'gone');
    assert.equal(m.packet.qos, 1);
    assert.equal(m.packet.retain, false);
    assert.equal(b.broker.core.retained.get('will5/drop'), undefined);
    await w.close();
  });

  test('[MQTT-3.1.2-15] (v5) a will with Will Retain 1 is published retained', async () => {
    const c = await connect(b.url, { protocolVersion: 5, will: { topic: 'will5/retained', payload: Buffer.from('kept'), qos: 1, retain: true } });
    const w = await watcher(b, 'will5/retained');
    drop(c);
    await w.inbox.waitFor(1);
    const late = await watcher(b, 'will5/retained');
    const [m] = await late.inbox.waitFor(1);
    assert.deepEqual([m.payload.toString(), m.packet.retain], ['kept', true]);
    const cleaner = await connect(b.url);
    await publish(cleaner, 'will5/retained', '', { qos: 1, retain: true });
    await end(cleaner);
    await w.close();
    await late.close();
  });

  test('[MQTT-3.14.4-3][MQTT-3.1.2-10] (v5) DISCONNECT with reason 0x00 deletes the will', async () => {
    const w = await watcher(b, 'will5/normal/#');
    const c = await rawV5(b.port, { will: will('will5/normal/w', 'never') });
    c.send({ type: 14, reasonCode: 0x00 });
    await c.waitClosed();
    await w.probe('will5/normal/probe');
    const [m] = await w.inbox.waitFor(1);
    assert.equal(m.topic, 'will5/normal/probe', 'the first message after the DISCONNECT is the probe, not the will');
    await w.close();
  });

  test('[MQTT-3.1.2-8] (v5) DISCONNECT with reason 0x04 (disconnect with will message) publishes the will', async () => {
    const w = await watcher(b, 'will5/with');
    const c = await rawV5(b.port, { will: will('will5/with', 'asked for') });
    c.send({ type: 14, reasonCode: 0x04 });
    await c.waitClosed();
    const [m] = await w.inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'asked for');
    await w.close();
  });

  test('[MQTT-3.1.2-8][MQTT-3.1.2-10] (v5) DISCONNECT with a failure reason (0x80, 0x83) keeps the will: only 0x00 deletes it', async () => {
    // 3.1.2.5: the will is published when the client closes "without first sending a DISCONNECT
    // packet with a Reason Code 0x00" (Mosquitto, unlike the text, keeps it only for 0x04).
    for (const reasonCode of [0x80, 0x83]) {
      const topic = `will5/failure/${reasonCode}`;
      const w = await watcher(b, topic);
      const c = await rawV5(b.port, { will: will(topic, `after 0x${reasonCode.toString(16)}`) });
      c.send({ type: 14, reasonCode });
      await c.waitClosed();
      const [m] = await w.inbox.waitFor(1, 2000);
      assert.equal(m.payload.toString(), `after 0x${reasonCode.toString(16)}`);
      await w.close();
    }
  });

  test('[MQTT-3.1.2-8] (v5) MQTT.js end() with reasonCode 0x04 publishes the will', async () => {
    const w = await watcher(b, 'will5/js');
    const c = await connect(b.url, { protocolVersion: 5, will: { topic: 'will5/js', payload: Buffer.from('js will'), qos: 1, retain: false } });
    await c.endAsync(false, { reasonCode: 0x04 });
    const [m] = await w.inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'js will');
    await w.close();
  });

  test('[MQTT-3.1.3-10][MQTT-3.3.2-4][MQTT-3.3.2-15][MQTT-3.3.2-16][MQTT-3.3.2-17][MQTT-3.3.2-18][MQTT-3.3.2-20] (v5) will properties are forwarded unchanged, user properties in order; the Will Delay Interval is not', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('will5/props', 1));
    const userProperties: UserProperty[] = [['z', 'last'], ['a', 'first'], ['z', 'again']];
    const c = await rawV5(b.port, {
      will: will('will5/props', '{"state":"offline"}', {
        properties: {
          willDelayInterval: 0,
          payloadFormatIndicator: 1,
          contentType: 'application/json',
          responseTopic: 'will5/replies',
          correlationData: Buffer.from([9, 8, 7]),
          userProperties,
        },
      }),
    });
    c.close();
    const p = await expectPublish(sub);
    assert.equal(p.payload.toString(), '{"state":"offline"}');
    assert.deepEqual(p.properties, {
      payloadFormatIndicator: 1,
      contentType: 'application/json',
      responseTopic: 'will5/replies',
      correlationData: Buffer.from([9, 8, 7]),
      userProperties,
    });
    sub.close();
  });

  test('[MQTT-3.3.2-6] (v5) a will\'s Message Expiry Interval is forwarded', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('will5/expiry', 1));
    const c = await rawV5(b.port, { will: will('will5/expiry', 'x', { properties: { messageExpiryInterval: 30 } }) });
    c.close();
    const p = await expectPublish(sub);
    const e = p.properties?.messageExpiryInterval;
    assert.ok(e !== undefined && e <= 30 && e >= 29, `expiry ${e}`);
    sub.close();
  });

  test('[MQTT-3.1.2-8] (v5) a protocol error ends the connection with DISCONNECT 0x82 and publishes the will', async () => {
    const w = await watcher(b, 'will5/violation');
    const c = await rawV5(b.port, { will: will('will5/violation', 'bad') });
    c.send({ type: 3, topic: 'x', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { subscriptionIdentifiers: [1] } });
    await expectDisconnect(c, 0x82);
    assert.equal((await w.inbox.waitFor(1))[0].payload.toString(), 'bad');
    await w.close();
  });

  test('[MQTT-3.1.2-8][MQTT-3.1.4-3] (v5) the will of a connection taken over (no will delay) is published', async () => {
    const w = await watcher(b, 'will5/takeover');
    const clientId = uniqueId('will-takeover');
    const old = await rawV5(b.port, { clientId, will: will('will5/takeover', 'replaced') });
    const fresh = await rawV5(b.port, { clientId });
    await expectDisconnect(old, 0x8e);
    assert.equal((await w.inbox.waitFor(1))[0].payload.toString(), 'replaced');
    fresh.close();
    await w.close();
  });

  test('[MQTT-3.1.2-8] (v5) Will Delay with Session Expiry 0: the session ends with the connection, so the will goes at once', async () => {
    const w = await watcher(b, 'will5/expiry0');
    const c = await rawV5(b.port, { will: will('will5/expiry0', 'now', { properties: { willDelayInterval: 60 } }) });
    const dropped = Date.now();
    c.close();
    const [m] = await w.inbox.waitFor(1, 2000);
    assert.equal(m.payload.toString(), 'now');
    assert.ok(Date.now() - dropped < 1000);
    await w.close();
  });

  test('(v5) a 3.1.1 subscriber gets a 5.0 client\'s will, and a 5.0 subscriber a 3.1.1 client\'s', async () => {
    const v4 = await connect(b.url, { protocolVersion: 4 });
    const v4inbox = new Inbox(v4);
    await subscribe(v4, 'will5/cross/#', { qos: 1 });
    const w5 = await watcher(b, 'will5/cross/#');
    const c5 = await rawV5(b.port, { will: will('will5/cross/from5', 'five', { properties: { contentType: 'text/plain' } }) });
    c5.close();
    const c4 = await RawClient.connect(b.port, { protocolVersion: 4, will: will('will5/cross/from4', 'four') });
    await v4inbox.waitFor(1);
    c4.close();
    const got4 = await v4inbox.waitFor(2);
    const got5 = await w5.inbox.waitFor(2);
    assert.deepEqual(got4.map((m) => m.payload.toString()), ['five', 'four']);
    assert.deepEqual(got5.map((m) => m.payload.toString()), ['five', 'four']);
    assert.equal(got5[0].packet.properties?.contentType, 'text/plain');
    await end(v4);
    await w5.close();
  });
});

describe('MQTT 5 will delay', { concurrency: true }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.1.2-8] (v5) Will Delay 1 s: the will arrives about 1 s after the connection drops, not before', async () => {
    const w = await watcher(b, 'delay/basic');
    const c = await rawV5(b.port, { properties: { sessionExpiryInterval: 10 }, will: will('delay/basic', 'late', { properties: { willDelayInterval: 1 } }) });
    const dropped = Date.now();
    c.close();
    const [m] = await w.inbox.waitFor(1, 3000);
    const elapsed = Date.now() - dropped;
    assert.equal(m.payload.toString(), 'late');
    assert.ok(elapsed >= 900, `will after ${elapsed} ms`);
    await w.close();
  });

  test('[MQTT-3.1.3-9][MQTT-3.1.2-8] (v5) a new connection for the session within the will delay: the will is not published', async () => {
    const w = await watcher(b, 'delay/back/#');
    const clientId = uniqueId('delay-back');
    const c = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 10 }, will: will('delay/back/w', 'must not', { properties: { willDelayInterval: 1 } }) });
    c.close();
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 10 } });
    assert.equal(back.connack.sessionPresent, true);
    await elapse(1300);
    await w.probe('delay/back/probe');
    const [m] = await w.inbox.waitFor(1);
    assert.equal(m.topic, 'delay/back/probe', 'no will before the probe');
    back.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    await w.close();
  });

  test('[MQTT-3.1.3-9][MQTT-3.1.4-3] (v5) a takeover with Clean Start 0 within the will delay: the will is not published', async () => {
    const w = await watcher(b, 'delay/takeover/#');
    const clientId = uniqueId('delay-takeover');
    const old = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 10 }, will: will('delay/takeover/w', 'must not', { properties: { willDelayInterval: 1 } }) });
    const fresh = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 10 } });
    await expectDisconnect(old, 0x8e);
    await elapse(1300);
    await w.probe('delay/takeover/probe');
    const [m] = await w.inbox.waitFor(1);
    assert.equal(m.topic, 'delay/takeover/probe');
    fresh.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    await w.close();
  });

  test('[MQTT-3.1.2-8] (v5) the session ends before the will delay: the will is published when the session ends', async () => {
    const w = await watcher(b, 'delay/session-ends');
    const c = await rawV5(b.port, { properties: { sessionExpiryInterval: 1 }, will: will('delay/session-ends', 'session over', { properties: { willDelayInterval: 30 } }) });
    const dropped = Date.now();
    c.close();
    const [m] = await w.inbox.waitFor(1, 4000);
    const elapsed = Date.now() - dropped;
    assert.equal(m.payload.toString(), 'session over');
    assert.ok(elapsed >= 900 && elapsed < 4000, `will after ${elapsed} ms, expected about 1 s`);
    await w.close();
  });

  test('[MQTT-3.1.2-8] (v5) a reconnect with Clean Start 1 ends the old session: its delayed will is published then', async () => {
    const w = await watcher(b, 'delay/clean');
    const clientId = uniqueId('delay-clean');
    const c = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 30 }, will: will('delay/clean', 'old session over', { properties: { willDelayInterval: 30 } }) });
    c.close();
    await new Promise((resolve) => setImmediate(resolve));
    const fresh = await rawV5(b.port, { clientId, cleanStart: true });
    const [m] = await w.inbox.waitFor(1, 2000);
    assert.equal(m.payload.toString(), 'old session over');
    fresh.close();
    await w.close();
  });
});
