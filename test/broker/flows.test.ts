// MQTT 3.1.1 statements about the order and form of acknowledgements, and about faults.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import type { Packet, PublishPacket, Subscription } from '../../src/protocol/packets.js';

const sub = (topicFilter: string, qos: 0 | 1 | 2): Subscription => ({ topicFilter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 });
const ids = (packets: Packet[]): number[] => packets.map((p) => ('packetId' in p && p.packetId !== undefined ? p.packetId : -1));

describe('MQTT 3.1.1 acknowledgement flows', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({
      hooks: {
        authorizePublish: (_client, packet) => {
          // A fault inside the broker while it handles one client's packet.
          if (packet.topic === 'fault/boom') throw new Error('simulated internal fault');
          return true;
        },
      },
    });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.3.4-1][MQTT-4.6.0-2][MQTT-4.6.0-3] PUBLISH is answered per its QoS, acks in the order the PUBLISHes came', async () => {
    const c = await RawClient.connect(b.port);
    const order = [31, 7, 500, 2, 64000];
    for (const id of order) c.send({ type: 3, topic: 'flows/q2', payload: Buffer.from('x'), qos: 2, retain: false, dup: false, packetId: id });
    c.send({ type: 3, topic: 'flows/q0', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    for (const id of [9, 8]) c.send({ type: 3, topic: 'flows/q1', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: id });
    const got: Packet[] = [];
    for (let i = 0; i < 7; i++) got.push(await c.next());
    assert.deepEqual(got.map((p) => p.type), [5, 5, 5, 5, 5, 4, 4], 'QoS 2 → PUBREC, QoS 0 → nothing, QoS 1 → PUBACK');
    assert.deepEqual(ids(got), [...order, 9, 8]);
    for (const id of order) c.send({ type: 6, packetId: id });
    const comps: Packet[] = [];
    for (let i = 0; i < order.length; i++) comps.push(await c.next());
    assert.deepEqual(ids(comps), order);
    c.close();
  });

  test('[MQTT-4.6.0-4] the broker sends PUBRELs in the order the PUBRECs arrived', async () => {
    const s = await RawClient.connect(b.port);
    s.send({ type: 8, packetId: 1, subscriptions: [sub('flows/rel', 2)] });
    await s.next();
    const pub = await connect(b.url);
    for (let i = 0; i < 4; i++) await publish(pub, 'flows/rel', String(i), { qos: 2 });
    const msgs: PublishPacket[] = [];
    for (let i = 0; i < 4; i++) msgs.push((await s.next()) as PublishPacket);
    const recOrder = [msgs[2], msgs[0], msgs[3], msgs[1]].map((m) => m.packetId!);
    for (const id of recOrder) s.send({ type: 5, packetId: id });
    const rels: Packet[] = [];
    for (let i = 0; i < 4; i++) rels.push(await s.next());
    assert.deepEqual(rels.map((p) => p.type), [6, 6, 6, 6]);
    assert.deepEqual(ids(rels), recOrder);
    for (const id of recOrder) s.send({ type: 7, packetId: id });
    s.close();
    await end(pub);
  });

  test('[MQTT-4.3.1-1] a QoS 0 delivery has QoS 0, DUP 0 and no packet id', async () => {
    const s = await RawClient.connect(b.port);
    s.send({ type: 8, packetId: 1, subscriptions: [sub('flows/zero', 0)] });
    await s.next();
    const p = await RawClient.connect(b.port);
    p.send({ type: 3, topic: 'flows/zero', payload: Buffer.from('z'), qos: 1, retain: false, dup: true, packetId: 3 });
    const got = (await s.next()) as PublishPacket;
    assert.equal(got.qos, 0);
    assert.equal(got.dup, false);
    assert.equal(got.packetId, undefined);
    s.close();
    p.close();
  });

  test('[MQTT-3.1.3-2][MQTT-4.1.0-2] the client id finds the session; it lasts while the connection is open', async () => {
    const a = await connect(b.url, { clientId: 'keyed-session', clean: false });
    const inbox = new Inbox(a);
    await subscribe(a, 'flows/keyed', { qos: 1 });
    const other = await connect(b.url, { clientId: 'someone-else', clean: false });
    const pub = await connect(b.url);
    await publish(pub, 'flows/keyed', 'for keyed-session', { qos: 1 });
    assert.equal((await inbox.waitFor(1))[0].payload.toString(), 'for keyed-session');
    assert.equal(b.broker.core.sessions.get('keyed-session')!.subscriptions.has('flows/keyed'), true);
    assert.equal(b.broker.core.sessions.get('someone-else')!.subscriptions.size, 0);
    await end(a, other, pub);
  });

  test('[MQTT-4.8.0-2] a fault while handling a packet closes that connection only', async () => {
    const healthy = await connect(b.url);
    const inbox = new Inbox(healthy);
    await subscribe(healthy, 'fault/ok', { qos: 1 });
    const victim = await RawClient.connect(b.port);
    victim.send({ type: 3, topic: 'fault/boom', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: 1 });
    await victim.waitClosed();
    await publish(healthy, 'fault/ok', 'still fine', { qos: 1 });
    assert.equal((await inbox.waitFor(1))[0].payload.toString(), 'still fine');
    await end(healthy);
  });
});
