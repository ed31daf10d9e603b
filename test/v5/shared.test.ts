// Shared subscriptions `$share/{ShareName}/{filter}`, MQTT 5.0 (section 4.8.2).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { until } from '../helpers/wait.js';
import type { RawClient } from '../helpers/raw-client.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import {
  ackRaw,
  expectNothingPending,
  expectPublish,
  publishRaw,
  rawV5,
  subscribeRaw,
  subscription,
  uniqueId,
} from '../helpers/v5.js';

describe('MQTT 5 shared subscriptions', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  /** Resolves once the broker has seen `clientId`'s connection end. */
  const offline = (clientId: string): Promise<void> => until(() => b.broker.core.sessions.get(clientId)?.client === undefined, 3000, `${clientId} offline`);

  test('(v5) each message goes to exactly one member of a group; every group and every plain subscriber gets it', async () => {
    const members = await Promise.all([1, 2, 3].map(() => connect(b.url, { protocolVersion: 5 })));
    const memberInboxes = members.map((m) => new Inbox(m));
    for (const m of members) await subscribe(m, '$share/workers/jobs/+', { qos: 1 });
    const other = await connect(b.url, { protocolVersion: 5 });
    const otherInbox = new Inbox(other);
    await subscribe(other, '$share/audit/jobs/#', { qos: 1 });
    const plain = await connect(b.url, { protocolVersion: 5 });
    const plainInbox = new Inbox(plain);
    await subscribe(plain, 'jobs/+', { qos: 1 });
    const pub = await connect(b.url, { protocolVersion: 5 });
    for (let i = 0; i < 12; i++) await publish(pub, `jobs/${i % 2}`, String(i), { qos: 1 });
    await otherInbox.waitFor(12);
    await plainInbox.waitFor(12);
    await until(() => memberInboxes.reduce((n, box) => n + box.messages.length, 0) >= 12, 5000, '12 messages across the workers');
    const received = memberInboxes.flatMap((box) => box.messages.map((m) => Number(m.payload.toString())));
    assert.deepEqual(received.sort((x, y) => x - y), Array.from({ length: 12 }, (_, i) => i), 'each message once across the group');
    assert.ok(memberInboxes.filter((box) => box.messages.length > 0).length >= 2, 'the work is shared');
    // One more message through the same paths: behind it, no late duplicate can still be on its way.
    await publish(pub, 'jobs/last', 'last', { qos: 1 });
    await plainInbox.waitFor(13);
    await until(() => memberInboxes.reduce((n, box) => n + box.messages.length, 0) >= 13, 5000, 'the last message');
    const all = memberInboxes.flatMap((box) => box.messages.map((m) => m.payload.toString()));
    assert.equal(all.length, 13, 'no duplicates arrived later');
    await end(...members, other, plain, pub);
  });

  test('[MQTT-4.8.2-3] (v5) a shared delivery uses the QoS granted to the member that receives it', async () => {
    const q0 = await rawV5(b.port);
    await subscribeRaw(q0, subscription('$share/qos/sq/t', 0));
    const q1 = await rawV5(b.port);
    await subscribeRaw(q1, subscription('$share/qos/sq/t', 1));
    const pub = await rawV5(b.port);
    for (let i = 0; i < 6; i++) await publishRaw(pub, 'sq/t', String(i), 2);
    const got: string[] = [];
    const drain = async (c: RawClient, qos: number): Promise<void> => {
      c.send({ type: 12 });
      for (;;) {
        const p = await c.next();
        if (p.type === 13) return;
        assert.equal(p.type, 3);
        const publishPacket = p as PublishPacket;
        assert.equal(publishPacket.qos, qos);
        got.push(publishPacket.payload.toString());
        await ackRaw(c, publishPacket);
      }
    };
    await drain(q0, 0);
    await drain(q1, 1);
    assert.deepEqual(got.sort(), ['0', '1', '2', '3', '4', '5']);
    q0.close();
    q1.close();
    pub.close();
  });

  test('(v5) a new shared subscription gets no retained messages', async () => {
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'sret/t', 'retained', 1, undefined, true);
    const c = await rawV5(b.port);
    await subscribeRaw(c, subscription('$share/ret/sret/t', 1));
    await expectNothingPending(c, 'no retained message for a shared subscription');
    await publishRaw(pub, 'sret/t', 'live', 1);
    const p = await expectPublish(c);
    assert.equal(p.payload.toString(), 'live');
    await ackRaw(c, p);
    await publishRaw(pub, 'sret/t', '', 1, undefined, true);
    c.close();
    pub.close();
  });

  test('(v5) QoS 1 messages in flight to a member whose session ends go to another member: none is lost', async () => {
    const aId = uniqueId('share-a');
    const a = await rawV5(b.port, { clientId: aId });
    await subscribeRaw(a, subscription('$share/redis/sr/t', 1));
    const pub = await rawV5(b.port);
    for (let i = 0; i < 3; i++) await publishRaw(pub, 'sr/t', String(i), 1);
    const sentToA = [await expectPublish(a), await expectPublish(a), await expectPublish(a)];
    assert.deepEqual(sentToA.map((p) => p.payload.toString()), ['0', '1', '2']);
    const bClient = await rawV5(b.port);
    await subscribeRaw(bClient, subscription('$share/redis/sr/t', 1));
    a.close(); // no PUBACK: the three are still in flight, and A's session ends with it
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await expectPublish(bClient);
      got.push(p.payload.toString());
      await ackRaw(bClient, p);
    }
    assert.deepEqual(got.sort(), ['0', '1', '2']);
    await publishRaw(pub, 'sr/t', 'after', 1);
    assert.equal((await expectPublish(bClient)).payload.toString(), 'after');
    bClient.close();
    pub.close();
  });

  test('[MQTT-4.8.2-4] (v5) a QoS 2 shared delivery cut off by a disconnect is completed to that same client when it reconnects', async () => {
    const aId = uniqueId('share-q2a');
    const a = await rawV5(b.port, { clientId: aId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(a, subscription('$share/q2/sq2/t', 2));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'sq2/t', 'exactly once', 2);
    const first = await expectPublish(a);
    const other = await rawV5(b.port);
    await subscribeRaw(other, subscription('$share/q2/sq2/t', 2));
    a.close();
    await offline(aId);
    await expectNothingPending(other, 'the QoS 2 message stays with the member it was sent to');
    const back = await rawV5(b.port, { clientId: aId, cleanStart: false, properties: { sessionExpiryInterval: 0 } });
    const again = await expectPublish(back);
    assert.deepEqual([again.packetId, again.dup, again.payload.toString()], [first.packetId, true, 'exactly once']);
    await ackRaw(back, again);
    await expectNothingPending(other);
    back.close();
    other.close();
    pub.close();
  });

  test('[MQTT-4.8.2-5] (v5) a QoS 2 shared delivery whose client\'s session ends before it reconnects is not sent to another member', async () => {
    const aId = uniqueId('share-q2end');
    const a = await rawV5(b.port, { clientId: aId });
    await subscribeRaw(a, subscription('$share/q2end/sq2e/t', 2));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'sq2e/t', 'not twice', 2);
    await expectPublish(a);
    const other = await rawV5(b.port);
    await subscribeRaw(other, subscription('$share/q2end/sq2e/t', 2));
    a.close();
    await until(() => !b.broker.core.sessions.has(aId), 3000, 'the session of A to end');
    await expectNothingPending(other, 'the QoS 2 message sent to A is not sent to another member');
    await publishRaw(pub, 'sq2e/t', 'next', 2);
    const p = await expectPublish(other);
    assert.equal(p.payload.toString(), 'next');
    await ackRaw(other, p);
    other.close();
    pub.close();
  });

  test('[MQTT-4.8.2-6] (v5) a PUBACK with a failure reason for a shared delivery: the message is discarded, not tried on another member', async () => {
    const a = await rawV5(b.port);
    await subscribeRaw(a, subscription('$share/neg/sneg/t', 1));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'sneg/t', 'refused', 1);
    const p = await expectPublish(a);
    const other = await rawV5(b.port);
    await subscribeRaw(other, subscription('$share/neg/sneg/t', 1));
    a.send({ type: 4, packetId: p.packetId!, reasonCode: 0x80 });
    await expectNothingPending(a, 'A stays connected');
    await expectNothingPending(other, 'not re-sent to another member');
    a.close();
    await expectNothingPending(other, 'not even when A leaves');
    other.close();
    pub.close();
  });

  test('(v5) a member that unsubscribes leaves the group; the others get everything', async () => {
    const a = await rawV5(b.port);
    const c = await rawV5(b.port);
    await subscribeRaw(a, subscription('$share/leave/sl/t', 0));
    await subscribeRaw(c, subscription('$share/leave/sl/t', 0));
    const unsuback = await (async () => {
      a.send({ type: 10, packetId: 9, topicFilters: ['$share/leave/sl/t'] });
      return a.next();
    })();
    assert.equal(unsuback.type === 11 && unsuback.reasonCodes?.[0], 0);
    const pub = await rawV5(b.port);
    for (let i = 0; i < 4; i++) await publishRaw(pub, 'sl/t', String(i), 1);
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await expectPublish(c)).payload.toString());
    assert.deepEqual(got, ['0', '1', '2', '3']);
    await expectNothingPending(a);
    a.close();
    c.close();
    pub.close();
  });
});
