// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK and the subscription options, MQTT 5.0 (sections
// 3.3.1.3, 3.3.4, 3.8-3.11): reason codes, No Local, Retain As Published, Retain Handling,
// Subscription Identifiers, retained messages.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import {
  ackRaw,
  expectDisconnect,
  expectNothingPending,
  expectPacket,
  expectPublish,
  nextPacketId,
  publishRaw,
  rawV5,
  subscribeRaw,
  subscription,
  uniqueId,
  unsubscribeRaw,
} from '../helpers/v5.js';

describe('MQTT 5 SUBSCRIBE and UNSUBSCRIBE', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({
      hooks: { authorizeSubscribe: (_client, sub) => !sub.topicFilter.startsWith('private/') },
    });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.8.4-1][MQTT-3.8.4-2][MQTT-2.2.1-6][MQTT-3.8.4-5][MQTT-3.8.4-6][MQTT-3.8.4-7][MQTT-3.9.3-1][MQTT-3.9.3-2] (v5) one SUBACK with the packet id and a reason code per filter, in order', async () => {
    const clientId = uniqueId('suback');
    const c = await rawV5(b.port, { clientId });
    const packetId = nextPacketId();
    c.send({
      type: 8,
      packetId,
      subscriptions: [
        subscription('sa/two', 2),
        subscription('sa/bad/#/x', 1),
        subscription('sa/zero', 0),
        subscription('private/x', 1),
        subscription('sa/one', 1),
        subscription('$share/g+/sa/x', 1),
      ],
    });
    const suback = await expectPacket(c, 9);
    assert.equal(suback.packetId, packetId);
    assert.deepEqual(suback.reasonCodes, [0x02, 0x8f, 0x00, 0x87, 0x01, 0x8f]);
    const session = b.broker.core.sessions.get(clientId);
    assert.deepEqual([...(session?.subscriptions.keys() ?? [])].sort(), ['sa/one', 'sa/two', 'sa/zero'], 'the failed filters were not subscribed');
    c.close();
  });

  test('[MQTT-3.8.4-8] (v5) delivery uses the lower of publish QoS and granted QoS', async () => {
    const c = await rawV5(b.port);
    await subscribeRaw(c, [subscription('minq/0', 0), subscription('minq/1', 1), subscription('minq/2', 2)]);
    const pub = await rawV5(b.port);
    const seen: string[] = [];
    for (const [topic, qos] of [['minq/0', 2], ['minq/1', 2], ['minq/2', 1], ['minq/2', 0]] as const) {
      await publishRaw(pub, topic, 'x', qos);
      const p = await expectPublish(c);
      seen.push(`${p.topic}@${p.qos}`);
      await ackRaw(c, p);
    }
    assert.deepEqual(seen, ['minq/0@0', 'minq/1@1', 'minq/2@1', 'minq/2@0']);
    c.close();
    pub.close();
  });

  test('[MQTT-3.3.4-2][MQTT-3.3.4-3][MQTT-3.3.4-4] (v5) overlapping subscriptions: one copy at the highest QoS carrying every matching Subscription Identifier', async () => {
    const c = await rawV5(b.port);
    await subscribeRaw(c, subscription('ov/+', 0), { subscriptionIdentifiers: [1] });
    await subscribeRaw(c, subscription('ov/#', 2), { subscriptionIdentifiers: [268435455] });
    await subscribeRaw(c, subscription('ov/a', 1));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'ov/a', 'x', 2);
    const p = await expectPublish(c);
    assert.equal(p.qos, 2);
    assert.deepEqual([...(p.properties?.subscriptionIdentifiers ?? [])].sort((x, y) => x - y), [1, 268435455]);
    await ackRaw(c, p);
    await expectNothingPending(c, 'one copy only');
    await publishRaw(pub, 'ov/b', 'y', 1);
    const q = await expectPublish(c);
    assert.deepEqual([...(q.properties?.subscriptionIdentifiers ?? [])].sort((x, y) => x - y), [1, 268435455], 'ov/a has no id and does not match');
    await ackRaw(c, q);
    c.close();
    pub.close();
  });

  test('[MQTT-3.3.4-5] (v5) a shared and a non-shared subscription of one client: one PUBLISH per subscription, each with its own Subscription Identifier', async () => {
    const c = await rawV5(b.port);
    await subscribeRaw(c, subscription('pers/t', 1), { subscriptionIdentifiers: [5] });
    await subscribeRaw(c, subscription('$share/g/pers/+', 1), { subscriptionIdentifiers: [7] });
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'pers/t', 'x', 1);
    // A message matching a client's non-shared subscription and a shared one reaches it twice
    // (spec section 4.8.2): each copy names only the subscription it came through.
    const copies = [await expectPublish(c), await expectPublish(c)];
    const ids = copies.map((p) => p.properties?.subscriptionIdentifiers ?? []).map((list) => [...list]);
    assert.deepEqual(ids.sort((x, y) => x[0] - y[0]), [[5], [7]]);
    for (const p of copies) await ackRaw(c, p);
    await expectNothingPending(c, 'two copies only');
    c.close();
    pub.close();
  });

  test('(v5) a Subscription Identifier comes with retained messages too, and a subscription without one sends none', async () => {
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'sid/retained', 'kept', 1, undefined, true);
    const c = await rawV5(b.port);
    await subscribeRaw(c, subscription('sid/+', 1), { subscriptionIdentifiers: [42] });
    const p = await expectPublish(c);
    assert.deepEqual(p.properties?.subscriptionIdentifiers, [42]);
    await ackRaw(c, p);
    await subscribeRaw(c, subscription('sid/+', 1));
    const q = await expectPublish(c);
    assert.equal(q.properties?.subscriptionIdentifiers, undefined, 'the replaced subscription has no identifier');
    await ackRaw(c, q);
    await publishRaw(pub, 'sid/retained', '', 1, undefined, true);
    c.close();
    pub.close();
  });

  test('[MQTT-3.8.3-3] (v5) No Local: the publisher\'s own messages are not sent back to it, others get them', async () => {
    const me = await rawV5(b.port);
    await subscribeRaw(me, [subscription('nl/t', 1, { noLocal: true }), subscription('nl/u', 1)]);
    const other = await rawV5(b.port);
    await subscribeRaw(other, subscription('nl/t', 1, { noLocal: true }));
    await publishRaw(me, 'nl/t', 'mine', 0);
    await publishRaw(me, 'nl/u', 'echo', 0);
    const p = await expectPublish(me);
    assert.equal(p.topic, 'nl/u', 'only the subscription without No Local echoes');
    await ackRaw(me, p);
    await expectNothingPending(me);
    const o = await expectPublish(other);
    assert.equal(o.payload.toString(), 'mine');
    me.close();
    other.close();
  });

  test('[MQTT-3.3.1-12][MQTT-3.3.1-13] (v5) Retain As Published: 0 clears RETAIN on forwarded messages, 1 keeps it', async () => {
    const rap0 = await rawV5(b.port);
    await subscribeRaw(rap0, subscription('rap/t', 1, { retainAsPublished: false }));
    const rap1 = await rawV5(b.port);
    await subscribeRaw(rap1, subscription('rap/t', 1, { retainAsPublished: true }));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'rap/t', 'r', 1, undefined, true);
    await publishRaw(pub, 'rap/t', 'n', 1, undefined, false);
    const got0 = [await expectPublish(rap0), await expectPublish(rap0)].map((p) => p.retain);
    const got1 = [await expectPublish(rap1), await expectPublish(rap1)].map((p) => p.retain);
    assert.deepEqual(got0, [false, false]);
    assert.deepEqual(got1, [true, false]);
    await publishRaw(pub, 'rap/t', '', 1, undefined, true);
    rap0.close();
    rap1.close();
    pub.close();
  });

  test('[MQTT-3.3.1-9][MQTT-3.3.1-10][MQTT-3.3.1-11][MQTT-3.8.4-3][MQTT-3.8.4-4] (v5) Retain Handling 0 sends retained messages on every SUBSCRIBE, 1 only for a new subscription, 2 never', async () => {
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'rh/a', 'A', 1, undefined, true);
    const c = await rawV5(b.port);
    const retainedAfter = async (retainHandling: 0 | 1 | 2): Promise<string[]> => {
      await subscribeRaw(c, subscription('rh/+', 1, { retainHandling }));
      const got: string[] = [];
      c.send({ type: 12 });
      for (;;) {
        const p = await c.next();
        if (p.type === 13) return got;
        assert.equal(p.type, 3);
        if (p.type === 3) {
          assert.equal(p.retain, true, 'a retained message sent on subscribe has RETAIN 1');
          got.push(p.payload.toString());
          await ackRaw(c, p);
        }
      }
    };
    assert.deepEqual(await retainedAfter(2), [], 'RH 2, new subscription');
    assert.deepEqual(await retainedAfter(1), [], 'RH 1, existing subscription');
    assert.deepEqual(await retainedAfter(0), ['A'], 'RH 0, existing subscription: sent again');
    assert.deepEqual(await retainedAfter(0), ['A'], 'RH 0 again');
    await unsubscribeRaw(c, ['rh/+']);
    assert.deepEqual(await retainedAfter(1), ['A'], 'RH 1, new subscription');
    // The replaced subscription still delivers new messages, once.
    await publishRaw(pub, 'rh/a', 'live', 1);
    const live = await expectPublish(c);
    assert.deepEqual([live.payload.toString(), live.retain], ['live', false]);
    await ackRaw(c, live);
    await expectNothingPending(c);
    await publishRaw(pub, 'rh/a', '', 1, undefined, true);
    c.close();
    pub.close();
  });

  test('[MQTT-3.3.1-5][MQTT-3.3.1-6][MQTT-3.3.1-7][MQTT-3.3.1-8] (v5) retained messages: replaced by a newer one, untouched by RETAIN 0, deleted by an empty payload (which is still forwarded)', async () => {
    const pub = await rawV5(b.port);
    const watcher = await rawV5(b.port);
    await subscribeRaw(watcher, subscription('ret5/t', 1));
    await publishRaw(pub, 'ret5/t', 'first', 1, undefined, true);
    await publishRaw(pub, 'ret5/t', 'second', 1, undefined, true);
    await publishRaw(pub, 'ret5/t', 'not retained', 1, undefined, false);
    const late = await rawV5(b.port);
    await subscribeRaw(late, subscription('ret5/t', 1));
    const r = await expectPublish(late);
    assert.deepEqual([r.payload.toString(), r.retain], ['second', true]);
    await ackRaw(late, r);
    await publishRaw(pub, 'ret5/t', '', 1, undefined, true);
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await expectPublish(watcher);
      seen.push(p.payload.toString());
      await ackRaw(watcher, p);
    }
    assert.deepEqual(seen, ['first', 'second', 'not retained', ''], 'the empty retained message is forwarded as usual');
    assert.equal(b.broker.core.retained.get('ret5/t'), undefined);
    const later = await rawV5(b.port);
    await subscribeRaw(later, subscription('ret5/t', 1));
    await expectNothingPending(later, 'nothing retained any more');
    for (const c of [pub, watcher, late, later]) c.close();
  });

  test('[MQTT-3.8.4-3] (v5) subscribing again to the same filter replaces the subscription: its new QoS, one copy', async () => {
    const c = await rawV5(b.port);
    await subscribeRaw(c, subscription('replace/t', 0));
    await subscribeRaw(c, subscription('replace/t', 2));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'replace/t', 'x', 2);
    const p = await expectPublish(c);
    assert.equal(p.qos, 2);
    await ackRaw(c, p);
    await expectNothingPending(c, 'a single copy');
    c.close();
    pub.close();
  });

  test('[MQTT-3.10.4-1][MQTT-3.10.4-4][MQTT-3.10.4-5][MQTT-3.10.4-6][MQTT-3.11.3-1][MQTT-3.11.3-2] (v5) UNSUBACK: a reason per filter in order, 0x11 where no subscription existed, filters compared literally', async () => {
    const c = await rawV5(b.port);
    await subscribeRaw(c, [subscription('un/+', 1), subscription('un/b', 1)]);
    const unsuback = await unsubscribeRaw(c, ['un/b', 'un/a', 'un/+', 'un/+']);
    assert.deepEqual(unsuback.reasonCodes, [0x00, 0x11, 0x00, 0x11]);
    const none = await unsubscribeRaw(c, ['nothing/here']);
    assert.deepEqual(none.reasonCodes, [0x11], 'UNSUBACK sent even when nothing was deleted');
    c.close();
  });

  test('[MQTT-3.10.4-2][MQTT-3.10.4-1] (v5) after UNSUBSCRIBE no new messages arrive on that filter; a wildcard filter is not removed by a topic that it matches', async () => {
    const c = await rawV5(b.port);
    await subscribeRaw(c, [subscription('gone/+', 1), subscription('gone/x', 1)]);
    await unsubscribeRaw(c, ['gone/x']);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'gone/x', 'via the wildcard', 1);
    const p = await expectPublish(c);
    await ackRaw(c, p);
    await unsubscribeRaw(c, ['gone/+']);
    await publishRaw(pub, 'gone/x', 'after', 1);
    await expectNothingPending(c);
    c.close();
    pub.close();
  });

  test('[MQTT-3.10.4-3] (v5) a QoS 1 delivery started before UNSUBSCRIBE is still completed', async () => {
    const clientId = uniqueId('unsub-inflight');
    const c = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(c, subscription('unsub/inflight', 1));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'unsub/inflight', 'started', 1);
    const p = await expectPublish(c);
    await unsubscribeRaw(c, ['unsub/inflight']);
    c.close();
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 0 } });
    const again = await expectPublish(back);
    assert.deepEqual([again.packetId, again.dup, again.payload.toString()], [p.packetId, true, 'started']);
    back.send({ type: 4, packetId: again.packetId! });
    await expectNothingPending(back);
    back.close();
    pub.close();
  });

  test('[MQTT-4.7.1-1][MQTT-4.7.1-2] (v5) "#" only alone or after "/" and last, "+" only as a whole level; valid filters match as the spec describes', async () => {
    const c = await rawV5(b.port);
    const bad = await subscribeRaw(c, ['wc/a#', 'wc/#/b', 'wc/a+', 'wc/+b/c', 'wc/##'].map((f) => subscription(f, 0)));
    assert.deepEqual(bad.reasonCodes, [0x8f, 0x8f, 0x8f, 0x8f, 0x8f]);
    const good = await subscribeRaw(c, ['wc/#', '+/+/end', 'wc/+'].map((f) => subscription(f, 0, { retainHandling: 2 })));
    assert.deepEqual(good.reasonCodes, [0, 0, 0]);
    const pub = await rawV5(b.port);
    // "wc" matches "wc/#" (the parent level); "wc/x/end" matches "wc/#" and "+/+/end";
    // "wc/x" matches "wc/#" and "wc/+"; "wc/x/y" only "wc/#"; "other/x/end" only "+/+/end".
    const expected: [string, number][] = [['wc', 1], ['wc/x/end', 2], ['wc/x', 2], ['wc/x/y', 1], ['other/x/end', 1], ['other', 0]];
    for (const [topic] of expected) await publishRaw(pub, topic, topic, 1);
    const seen: string[] = [];
    c.send({ type: 12 });
    for (;;) {
      const p = await c.next();
      if (p.type === 13) break;
      assert.equal(p.type, 3);
      if (p.type === 3) seen.push(p.topic);
    }
    assert.deepEqual(seen, expected.filter(([, n]) => n > 0).map(([t]) => t), 'one copy per matching message, none for "other"');
    c.close();
    pub.close();
  });

  test('[MQTT-4.7.3-3] (v5) a topic of 65,535 bytes is accepted as a filter and as a topic name', async () => {
    const topic = `long/${'x'.repeat(65535 - 5)}`;
    assert.equal(Buffer.byteLength(topic), 65535);
    const c = await rawV5(b.port);
    const suback = await subscribeRaw(c, subscription(topic, 1));
    assert.deepEqual(suback.reasonCodes, [1]);
    const pub = await rawV5(b.port);
    await publishRaw(pub, topic, 'at the limit', 1);
    const p = await expectPublish(c);
    assert.equal(p.topic, topic);
    await ackRaw(c, p);
    c.close();
    pub.close();
  });

  test('[MQTT-3.8.3-4] (v5) No Local on a shared subscription is a protocol error: DISCONNECT 0x82', async () => {
    const c = await rawV5(b.port);
    c.send({ type: 8, packetId: 1, subscriptions: [subscription('$share/g/nl/t', 1, { noLocal: true })] });
    await expectDisconnect(c, 0x82);
  });

  test('[MQTT-4.8.2-1][MQTT-4.8.2-2] (v5) malformed shared filters are refused with SUBACK 0x8F', async () => {
    const c = await rawV5(b.port);
    const suback = await subscribeRaw(c, ['$share//t', '$share/g', '$share/a+b/t', '$share/a#/t', '$share/g/'].map((f) => subscription(f, 1)));
    assert.deepEqual(suback.reasonCodes, [0x8f, 0x8f, 0x8f, 0x8f, 0x8f]);
    c.close();
  });

  test('(v5) MQTT.js subscription options: nl, rap and rh are honoured', async () => {
    const client = await connect(b.url, { protocolVersion: 5 });
    const inbox = new Inbox(client);
    await publish(client, 'js/opts/retained', 'R', { qos: 1, retain: true });
    await subscribe(client, 'js/opts/#', { qos: 1, nl: true, rap: true, rh: 2 });
    await publish(client, 'js/opts/self', 'not echoed', { qos: 1 });
    const other = await connect(b.url, { protocolVersion: 5 });
    await publish(other, 'js/opts/other', 'kept retain flag', { qos: 1, retain: true });
    const [m] = await inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'kept retain flag');
    assert.equal(m.packet.retain, true);
    assert.equal(inbox.messages.length, 1);
    await publish(other, 'js/opts/other', '', { qos: 1, retain: true });
    await publish(other, 'js/opts/retained', '', { qos: 1, retain: true });
    await end(client, other);
  });
});

describe('MQTT 5 malformed SUBSCRIBE, UNSUBSCRIBE and other packets', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  const cases: { name: string; bytes: number[]; reason: number[] }[] = [
    { name: '[MQTT-3.8.1-1][MQTT-2.1.3-1] SUBSCRIBE with flags 0000', bytes: [0x80, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0x61, 0x01], reason: [0x81] },
    { name: '[MQTT-3.8.3-2] SUBSCRIBE without any filter', bytes: [0x82, 0x03, 0x00, 0x01, 0x00], reason: [0x81, 0x82] },
    { name: '[MQTT-3.8.3-5] SUBSCRIBE options with reserved bits set', bytes: [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0x61, 0xc1], reason: [0x81] },
    { name: '[MQTT-3.8.3-5] SUBSCRIBE with Retain Handling 3', bytes: [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0x61, 0x31], reason: [0x81, 0x82] },
    { name: '[MQTT-3.10.1-1][MQTT-2.1.3-1] UNSUBSCRIBE with flags 0000', bytes: [0xa0, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x61], reason: [0x81] },
    { name: '[MQTT-3.10.3-2] UNSUBSCRIBE without any filter', bytes: [0xa2, 0x03, 0x00, 0x01, 0x00], reason: [0x81, 0x82] },
    { name: '[MQTT-3.6.1-1][MQTT-2.1.3-1] PUBREL with flags 0000', bytes: [0x60, 0x02, 0x00, 0x01], reason: [0x81] },
    { name: '[MQTT-3.14.1-1] DISCONNECT with reserved flags set', bytes: [0xe1, 0x01, 0x00], reason: [0x81] },
    { name: '[MQTT-3.15.1-1] AUTH with reserved flags set', bytes: [0xf1, 0x00], reason: [0x81] },
    { name: '[MQTT-2.1.3-1] PINGREQ with reserved flags set', bytes: [0xc2, 0x00], reason: [0x81] },
    { name: '[MQTT-3.3.1-4] PUBLISH with QoS 3', bytes: [0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00], reason: [0x81] },
    { name: '[MQTT-2.2.1-3] QoS 1 PUBLISH with packet id 0', bytes: [0x32, 0x06, 0x00, 0x01, 0x61, 0x00, 0x00, 0x00], reason: [0x81, 0x82] },
    { name: '[MQTT-3.15.2-1] AUTH with an undefined reason code', bytes: [0xf0, 0x02, 0x05, 0x00], reason: [0x81, 0x82] },
    { name: '[MQTT-3.14.2-1] DISCONNECT with an undefined reason code', bytes: [0xe0, 0x02, 0x03, 0x00], reason: [0x81, 0x82] },
    { name: '[MQTT-3.4.2-1] PUBACK with an undefined reason code', bytes: [0x40, 0x04, 0x00, 0x01, 0x01, 0x00], reason: [0x81, 0x82] },
    { name: '[MQTT-1.5.5-1] a property length in a five-byte Variable Byte Integer', bytes: [0x30, 0x0a, 0x00, 0x01, 0x61, 0x80, 0x80, 0x80, 0x80, 0x00, 0x78, 0x78], reason: [0x81] },
    { name: 'a property not allowed in PUBLISH (Session Expiry Interval)', bytes: [0x30, 0x0a, 0x00, 0x01, 0x61, 0x05, 0x11, 0x00, 0x00, 0x00, 0x01, 0x78], reason: [0x81, 0x82] },
  ];

  for (const c of cases) {
    test(`${c.name} (v5): DISCONNECT 0x${c.reason[0].toString(16)} and the connection closes`, async () => {
      const client = await rawV5(b.port);
      client.sendBytes(c.bytes);
      const d = await expectPacket(client, 14);
      assert.ok(c.reason.includes(d.reasonCode ?? 0), `reason 0x${(d.reasonCode ?? 0).toString(16)}, expected one of ${c.reason.map((r) => '0x' + r.toString(16)).join(', ')}`);
      await client.waitClosed();
    });
  }
});
