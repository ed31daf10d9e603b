// MQTT 3.1.1 statements that need a focused check of their own.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { PublishPacket, Subscription } from '../../src/protocol/packets.js';

const sub = (topicFilter: string, qos: 0 | 1 | 2 = 0): Subscription => ({ topicFilter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 });

describe('MQTT 3.1.1 conformance details', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({ hooks: { authorizePublish: (_client, packet) => !packet.topic.startsWith('forbidden/') } });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-2.3.1-7] SUBACK and UNSUBACK carry the packet id of their request', async () => {
    const c = await RawClient.connect(b.port);
    c.send({ type: 8, packetId: 513, subscriptions: [sub('echo/a')] });
    const suback = await c.next();
    assert.equal(suback.type === 9 && suback.packetId, 513);
    c.send({ type: 10, packetId: 65535, topicFilters: ['echo/a'] });
    const unsuback = await c.next();
    assert.equal(unsuback.type === 11 && unsuback.packetId, 65535);
    c.close();
  });

  test('[MQTT-3.1.4-1][MQTT-3.2.2-6] a CONNECT that does not conform is closed without CONNACK', async () => {
    const c = await RawClient.open(b.port);
    // CONNECT whose will QoS is set without the will flag (flags 0x0a)
    c.sendBytes([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x0a, 0x00, 0x3c, 0x00, 0x01, 0x78]);
    await c.waitClosed();
    assert.equal(c.packets.length, 0);
  });

  test('[MQTT-3.1.4-5][MQTT-3.1.3-9] after a rejected CONNECT, data the client sent behind it is ignored', async () => {
    const watcher = await connect(b.url);
    const inbox = new Inbox(watcher);
    await subscribe(watcher, 'ignored/#', { qos: 1 });
    const c = await RawClient.open(b.port);
    const connect311 = encodePacket({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: false, keepAlive: 0, clientId: '' }, 4);
    const publishAfter = encodePacket({ type: 3, topic: 'ignored/x', payload: Buffer.from('must not route'), qos: 0, retain: false, dup: false }, 4);
    c.sendBytes(Buffer.concat([connect311, publishAfter]));
    const connack = await c.next();
    assert.equal(connack.type === 2 && connack.reasonCode, 0x02);
    await c.waitClosed();
    await publish(watcher, 'ignored/probe', 'probe', { qos: 1 });
    const got = await inbox.waitFor(1);
    assert.equal(got[0].topic, 'ignored/probe');
    await end(watcher);
  });

  test('[MQTT-3.3.1-3] DUP on a forwarded PUBLISH is set by the broker, not copied from the publisher', async () => {
    const s = await RawClient.connect(b.port);
    s.send({ type: 8, packetId: 1, subscriptions: [sub('dup/t', 1)] });
    await s.next();
    const p = await RawClient.connect(b.port);
    p.send({ type: 3, topic: 'dup/t', payload: Buffer.from('d'), qos: 1, retain: false, dup: true, packetId: 5 });
    await p.next();
    const got = (await s.next()) as PublishPacket;
    assert.equal(got.dup, false);
    s.close();
    p.close();
  });

  test('[MQTT-3.3.5-2] an unauthorized PUBLISH is acknowledged normally and not delivered', async () => {
    const watcher = await connect(b.url);
    const inbox = new Inbox(watcher);
    await subscribe(watcher, 'forbidden/#', { qos: 1 });
    await subscribe(watcher, 'allowed/#', { qos: 1 });
    const p = await RawClient.connect(b.port);
    p.send({ type: 3, topic: 'forbidden/x', payload: Buffer.from('no'), qos: 1, retain: false, dup: false, packetId: 9 });
    const ack = await p.next();
    assert.equal(ack.type === 4 && ack.packetId, 9);
    p.send({ type: 3, topic: 'allowed/x', payload: Buffer.from('yes'), qos: 1, retain: false, dup: false, packetId: 10 });
    await p.next();
    const got = await inbox.waitFor(1);
    assert.equal(got[0].topic, 'allowed/x');
    p.close();
    await end(watcher);
  });

  test('[MQTT-3.10.4-3] a QoS 2 delivery started before UNSUBSCRIBE is completed', async () => {
    const s = await RawClient.connect(b.port);
    s.send({ type: 8, packetId: 1, subscriptions: [sub('unsub/q2', 2)] });
    await s.next();
    const pub = await connect(b.url);
    await publish(pub, 'unsub/q2', 'in flight', { qos: 2 });
    const msg = (await s.next()) as PublishPacket;
    s.send({ type: 10, packetId: 2, topicFilters: ['unsub/q2'] });
    assert.equal((await s.next()).type, 11);
    s.send({ type: 5, packetId: msg.packetId! });
    const rel = await s.next();
    assert.equal(rel.type === 6 && rel.packetId, msg.packetId);
    s.close();
    await end(pub);
  });

  test('[MQTT-2.3.1-4] the broker uses ids not in flight, and frees them after the ack', async () => {
    const s = await RawClient.connect(b.port);
    s.send({ type: 8, packetId: 1, subscriptions: [sub('ids/t', 1)] });
    await s.next();
    const pub = await connect(b.url);
    for (let i = 0; i < 20; i++) await publish(pub, 'ids/t', String(i), { qos: 1 });
    const ids = new Set<number>();
    for (let i = 0; i < 20; i++) ids.add(((await s.next()) as PublishPacket).packetId!);
    assert.equal(ids.size, 20, 'all ids in flight differ');
    for (const id of ids) s.send({ type: 4, packetId: id });
    s.send({ type: 12 });
    assert.equal((await s.next()).type, 13);
    assert.equal(b.broker.core.sessions.get([...b.broker.core.sessions.values()].find((x) => x.subscriptions.has('ids/t'))!.clientId)!.inflight.size, 0);
    s.close();
    await end(pub);
  });
});

describe('MQTT 3.1.1 without wildcard subscriptions', () => {
  test('[MQTT-3.8.3-2] a broker without wildcard support refuses filters with wildcards', async () => {
    const b = await startBroker({ wildcardSubscriptionAvailable: false });
    const c = await RawClient.connect(b.port);
    c.send({ type: 8, packetId: 1, subscriptions: [sub('a/+'), sub('a/b'), sub('#')] });
    const suback = await c.next();
    assert.deepEqual(suback.type === 9 && suback.reasonCodes, [0x80, 0, 0x80]);
    c.close();
    await b.close();
  });
});
