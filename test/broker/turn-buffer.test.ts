// The write path: a turn's packets are gathered and written at once per client, and a
// message's first encoding is the template of its next subscribers' copies, which get their
// own packet ids (src/broker/client.ts, src/broker/message.ts). A burst of messages of many
// sizes to subscribers of every QoS and version must arrive byte-exact, each with its own ids.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { QoS } from '../../src/protocol/packets.js';

/** Sizes on both sides of every write-path mark: the 4 KiB and 16 KiB packet-buffer slabs, the 16 KiB direct-write mark and the 64 KiB flush mark. */
const SIZES = [0, 1, 90, 1000, 1100, 3000, 5000, 9000, 16 * 1024 - 40, 16 * 1024 + 10, 40_000, 70_000];

function payloadOf(i: number): Buffer {
  const size = SIZES[i % SIZES.length];
  const payload = Buffer.alloc(Math.max(size, 4), (i * 7) & 0xff);
  payload.writeUInt32BE(i, 0);
  return payload.subarray(0, Math.max(size, 4));
}

describe('MQTT 3.1.1 and 5.0 writes gathered per turn', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(() => b.close());

  test('[MQTT-4.5.0-1] (v3.1.1) a burst in one chunk reaches QoS 0, 1 and 2 subscribers of 3.1.1 and 5.0 byte-exact and in order', async () => {
    const count = 240;
    const subscribers = await Promise.all([
      connect(b.url, { clientId: 'tb-q2', protocolVersion: 4 }),
      connect(b.url, { clientId: 'tb-q1', protocolVersion: 4 }),
      connect(b.url, { clientId: 'tb-q1-v5', protocolVersion: 5 }),
      connect(b.url, { clientId: 'tb-q0', protocolVersion: 4 }),
    ]);
    const grants: QoS[] = [2, 1, 1, 0];
    const inboxes = subscribers.map((s) => new Inbox(s));
    for (let k = 0; k < subscribers.length; k++) await subscribe(subscribers[k], 'tb/#', { qos: grants[k] });
    const pub = await RawClient.connect(b.port, { clientId: 'tb-pub' });
    // Every PUBLISH in one write: the broker routes them all within one turn, so templates
    // made for the first subscriber are copied for the others while buffers grow and flush.
    const bytes = Buffer.concat(Array.from({ length: count }, (_, i) => encodePacket({
      type: 3, topic: `tb/${i % 3}`, payload: payloadOf(i), qos: (1 + (i % 2)) as QoS, packetId: 1 + i, retain: false, dup: false,
    }, 4)));
    pub.sendBytes(bytes);
    // QoS 2 messages are completed with PUBREL as their PUBRECs come.
    let acked = 0;
    while (acked < count) {
      const p = await pub.next(20_000);
      if (p.type === 5) pub.send({ type: 6, packetId: p.packetId, reasonCode: 0 });
      if (p.type === 4 || p.type === 7) acked++;
    }
    for (let k = 0; k < subscribers.length; k++) {
      const got = await inboxes[k].waitFor(count, 20_000);
      const indexes = got.map((m) => m.payload.readUInt32BE(0));
      assert.deepEqual([...indexes].sort((x, y) => x - y), Array.from({ length: count }, (_, i) => i), `subscriber ${k}: every message once`);
      for (const qos of [1, 2]) {
        // [MQTT-4.6.0-5] order is kept among the messages of one QoS (QoS 2 ones are released by PUBREL).
        const sameQos = indexes.filter((i) => 1 + (i % 2) === qos);
        assert.deepEqual(sameQos, [...sameQos].sort((x, y) => x - y), `subscriber ${k}: order of QoS ${qos}`);
      }
      for (const m of got) {
        const i = m.payload.readUInt32BE(0);
        assert.ok(m.payload.equals(payloadOf(i)), `subscriber ${k}: payload of message ${i}`);
        assert.equal(m.topic, `tb/${i % 3}`);
        assert.equal(m.packet.qos, Math.min(grants[k], 1 + (i % 2)));
      }
    }
    pub.close();
    await end(...subscribers);
  });

  test('[MQTT-2.3.1-4] (v3.1.1) copies of one message carry each subscriber\'s own unused packet id, never DUP', async () => {
    const subs = await Promise.all([0, 1, 2].map((k) => RawClient.connect(b.port, { clientId: `tb-ids-${k}` })));
    for (const [k, sub] of subs.entries()) {
      // Different numbers of messages before, so each subscriber's next packet id differs.
      sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'ids/x', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
      assert.equal((await sub.next()).type, 9);
      for (let j = 0; j < k; j++) {
        sub.send({ type: 8, packetId: 2 + j, subscriptions: [{ topicFilter: `ids/warm/${k}`, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
        assert.equal((await sub.next()).type, 9);
      }
    }
    const pub = await RawClient.connect(b.port, { clientId: 'tb-ids-pub' });
    // Subscriber k gets k messages it never acknowledges: packet ids 1..k stay in use there.
    for (let k = 1; k < 3; k++) {
      for (let j = 0; j < k; j++) pub.send({ type: 3, topic: `ids/warm/${k}`, payload: Buffer.from('w'), qos: 1, packetId: 100 + 10 * k + j, retain: false, dup: false });
    }
    pub.send({ type: 3, topic: 'ids/x', payload: Buffer.from('shared'), qos: 1, packetId: 9, retain: false, dup: false });
    const seen: number[] = [];
    for (const sub of subs) {
      let p = await sub.next();
      while (p.type === 3 && p.topic !== 'ids/x') p = await sub.next();
      assert.ok(p.type === 3 && p.payload.toString() === 'shared' && p.qos === 1 && !p.dup);
      if (p.type === 3) seen.push(p.packetId!);
      sub.send({ type: 4, packetId: p.type === 3 ? p.packetId! : 0, reasonCode: 0 });
    }
    // Each copy was stamped with an id free in its own session: three different ids.
    assert.equal(new Set(seen).size, 3, `packet ids ${seen.join(', ')}`);
    for (const sub of subs) sub.close();
    pub.close();
  });
});
