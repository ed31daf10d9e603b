// What the broker announces in CONNACK and then enforces, MQTT 5.0 (section 3.2.2.3): Maximum
// QoS, Retain Available, Wildcard / Subscription Identifier / Shared Subscription Available.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import type { Packet } from '../../src/protocol/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  ackRaw,
  connackOf,
  expectDisconnect,
  expectPublish,
  nextPacketId,
  publishRaw,
  rawV5,
  subscribeRaw,
  subscription,
} from '../helpers/v5.js';

describe('MQTT 5 default capabilities', () => {
  test('(v5) a default broker announces only what differs from the defaults', async () => {
    const b = await startBroker();
    try {
      const c = await rawV5(b.port);
      const p = c.connack.properties ?? {};
      for (const key of ['maximumQoS', 'retainAvailable', 'wildcardSubscriptionAvailable', 'subscriptionIdentifierAvailable', 'sharedSubscriptionAvailable', 'receiveMaximum', 'maximumPacketSize'] as const) {
        assert.equal(p[key], undefined, `${key} left out: its default applies`);
      }
      c.close();
    } finally {
      await b.close();
    }
  });
});

describe('MQTT 5 restricted capabilities', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({
      maximumQoS: 1,
      retainAvailable: false,
      wildcardSubscriptionAvailable: false,
      subscriptionIdentifiersAvailable: false,
      sharedSubscriptionsAvailable: false,
      receiveMaximum: 10,
      maximumPacketSize: 4096,
    });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.2.2-9] (v5) CONNACK announces Maximum QoS 1, Retain Available 0, Wildcard / Subscription Identifier / Shared Subscription Available 0, Receive Maximum, Maximum Packet Size', async () => {
    const c = await rawV5(b.port);
    const p = c.connack.properties ?? {};
    assert.equal(p.maximumQoS, 1);
    assert.equal(p.retainAvailable, 0);
    assert.equal(p.wildcardSubscriptionAvailable, 0);
    assert.equal(p.subscriptionIdentifierAvailable, 0);
    assert.equal(p.sharedSubscriptionAvailable, 0);
    assert.equal(p.receiveMaximum, 10);
    assert.equal(p.maximumPacketSize, 4096);
    c.close();
  });

  test('[MQTT-3.2.2-10][MQTT-3.8.4-7] (v5) with Maximum QoS 1 a SUBSCRIBE for QoS 2 is accepted and granted QoS 1', async () => {
    const c = await rawV5(b.port);
    const suback = await subscribeRaw(c, [subscription('mq/t', 2), subscription('mq/u', 0)]);
    assert.deepEqual(suback.reasonCodes, [1, 0]);
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'mq/t', 'x', 1);
    const p = await expectPublish(c);
    assert.equal(p.qos, 1);
    await ackRaw(c, p);
    c.close();
    pub.close();
  });

  test('[MQTT-3.2.2-12] (v5) a CONNECT with a QoS 2 will is refused with CONNACK 0x9B and closed', async () => {
    const { client, connack } = await connackOf(b.port, { will: { topic: 'w/q2', payload: Buffer.from('x'), qos: 2, retain: false } });
    assert.equal(connack.reasonCode, 0x9b);
    assert.equal(connack.sessionPresent, false);
    await client.waitClosed();
  });

  test('[MQTT-3.2.2-13] (v5) a CONNECT with a retained will is refused with CONNACK 0x9A and closed', async () => {
    const { client, connack } = await connackOf(b.port, { will: { topic: 'w/r', payload: Buffer.from('x'), qos: 0, retain: true } });
    assert.equal(connack.reasonCode, 0x9a);
    await client.waitClosed();
  });

  test('[MQTT-3.2.2-11] (v5) a PUBLISH above Maximum QoS: DISCONNECT 0x9B', async () => {
    const c = await rawV5(b.port);
    c.send({ type: 3, topic: 'mq/t', payload: Buffer.from('x'), qos: 2, retain: false, dup: false, packetId: 1 });
    await expectDisconnect(c, 0x9b);
  });

  test('[MQTT-3.2.2-14] (v5) a PUBLISH with RETAIN when Retain Available is 0: DISCONNECT 0x9A', async () => {
    const c = await rawV5(b.port);
    c.send({ type: 3, topic: 'r/t', payload: Buffer.from('x'), qos: 0, retain: true, dup: false });
    await expectDisconnect(c, 0x9a);
    assert.equal(b.broker.core.retained.get('r/t'), undefined);
  });

  /**
   * A subscription the broker does not support: the spec names DISCONNECT with the reason code
   * (3.2.2.3.11-13), and the same reason codes exist for SUBACK; either refuses it.
   */
  async function refusedSubscription(filter: string, reason: number, properties?: { subscriptionIdentifiers: number[] }): Promise<void> {
    const c = await rawV5(b.port);
    const packetId = nextPacketId();
    c.send({ type: 8, packetId, subscriptions: [subscription(filter, 1), subscription('plain/topic', 1)], ...(properties ? { properties } : {}) });
    const answer: Packet = await c.next();
    if (answer.type === 9) {
      assert.equal(answer.packetId, packetId);
      assert.equal(answer.reasonCodes[0], reason, `SUBACK reason for ${filter}`);
      if (properties === undefined) assert.equal(answer.reasonCodes[1], 1, 'the supported filter in the same SUBSCRIBE is granted');
      c.close();
    } else {
      assert.equal(answer.type, 14, `SUBACK or DISCONNECT, got ${JSON.stringify(answer)}`);
      assert.equal(answer.reasonCode, reason);
      await c.waitClosed();
    }
    const session = [...b.broker.core.sessions.values()].find((s) => s.subscriptions.has(filter));
    assert.equal(session, undefined, `${filter} was not subscribed`);
  }

  test('(v5) Wildcard Subscription Available 0: a filter with + or # is refused with 0xA2', async () => {
    await refusedSubscription('wild/+', 0xa2);
    await refusedSubscription('wild/#', 0xa2);
  });

  test('(v5) Subscription Identifier Available 0: a SUBSCRIBE with one is refused with 0xA1', async () => {
    await refusedSubscription('sid/t', 0xa1, { subscriptionIdentifiers: [5] });
  });

  test('(v5) Shared Subscription Available 0: a $share filter is refused with 0x9E', async () => {
    await refusedSubscription('$share/g/shared/t', 0x9e);
  });

  test('(v5) a 3.1.1 client on the same broker gets the 3.1.1 failure code 0x80 for a wildcard filter', async () => {
    const c = await RawClient.connect(b.port, { protocolVersion: 4 });
    c.send({ type: 8, packetId: 3, subscriptions: [subscription('wild/#', 1)] });
    const suback = await c.next();
    assert.equal(suback.type === 9 && suback.reasonCodes[0], 0x80);
    c.close();
  });
});
