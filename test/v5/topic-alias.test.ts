// Topic aliases both ways, MQTT 5.0 (sections 3.1.2.11.5, 3.2.2.3.8, 3.3.2.3.4).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import {
  ackRaw,
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

/** The receiving side of topic aliases, as a client keeps it for one connection. */
class AliasReader {
  readonly map = new Map<number, string>();
  readonly aliasesSeen: number[] = [];
  emptyTopics = 0;

  constructor(private readonly maximum: number) {}

  /** The topic a PUBLISH stands for; checks the alias rules on the way. */
  topicOf(p: PublishPacket): string {
    const alias = p.properties?.topicAlias;
    if (alias === undefined) {
      assert.ok(p.topic.length > 0, 'an empty topic needs a Topic Alias');
      return p.topic;
    }
    this.aliasesSeen.push(alias);
    assert.ok(alias >= 1, 'Topic Alias 0 is never sent');
    assert.ok(alias <= this.maximum, `Topic Alias ${alias} above the client's maximum ${this.maximum}`);
    if (p.topic.length > 0) {
      this.map.set(alias, p.topic);
      return p.topic;
    }
    this.emptyTopics++;
    const topic = this.map.get(alias);
    assert.ok(topic !== undefined, `alias ${alias} used before it was set on this connection`);
    return topic;
  }
}

describe('MQTT 5 topic aliases from client to broker', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({ topicAliasMaximum: 5 });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.3.2-12] (v5) aliases 1 to the announced maximum are accepted: set with a topic, then used with an empty topic', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('tain/#', 1));
    const pub = await rawV5(b.port);
    assert.equal(pub.connack.properties?.topicAliasMaximum, 5);
    await publishRaw(pub, 'tain/one', '1', 1, { topicAlias: 1 });
    await publishRaw(pub, 'tain/five', '2', 1, { topicAlias: 5 });
    await publishRaw(pub, '', '3', 1, { topicAlias: 1 });
    await publishRaw(pub, '', '4', 0, { topicAlias: 5 });
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await expectPublish(sub);
      assert.equal(p.properties?.topicAlias, undefined, 'the publisher\'s alias is not forwarded');
      got.push(`${p.topic}=${p.payload.toString()}`);
      await ackRaw(sub, p);
    }
    assert.deepEqual(got, ['tain/one=1', 'tain/five=2', 'tain/one=3', 'tain/five=4']);
    sub.close();
    pub.close();
  });

  test('(v5) an alias is re-mapped by a PUBLISH that carries it with another topic', async () => {
    const sub = await rawV5(b.port);
    await subscribeRaw(sub, subscription('taremap/#', 0));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'taremap/a', 'a', 0, { topicAlias: 2 });
    await publishRaw(pub, 'taremap/b', 'b', 0, { topicAlias: 2 });
    await publishRaw(pub, '', 'via alias', 1, { topicAlias: 2 });
    const topics = [(await expectPublish(sub)).topic, (await expectPublish(sub)).topic, (await expectPublish(sub)).topic];
    assert.deepEqual(topics, ['taremap/a', 'taremap/b', 'taremap/b']);
    sub.close();
    pub.close();
  });

  test('[MQTT-3.3.2-8] (v5) Topic Alias 0: DISCONNECT 0x94 topic alias invalid', async () => {
    const c = await rawV5(b.port);
    c.send({ type: 3, topic: 'ta0/t', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 0 } });
    await expectDisconnect(c, 0x94);
  });

  test('[MQTT-3.3.2-9][MQTT-3.2.2-17] (v5) Topic Alias above the broker\'s Topic Alias Maximum: DISCONNECT 0x94', async () => {
    const c = await rawV5(b.port);
    c.send({ type: 3, topic: 'ta6/t', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: 1, properties: { topicAlias: 6 } });
    await expectDisconnect(c, 0x94);
  });

  test('(v5) an empty topic with an alias that was never set: DISCONNECT 0x82 protocol error', async () => {
    const c = await rawV5(b.port);
    c.send({ type: 3, topic: '', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } });
    await expectDisconnect(c, 0x82);
  });

  test('[MQTT-3.3.2-7] (v5) aliases set on one connection do not exist on the next, even for the same session', async () => {
    const clientId = uniqueId('alias-session');
    const first = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 30 } });
    await publishRaw(first, 'taconn/t', 'set', 0, { topicAlias: 1 });
    await publishRaw(first, '', 'use', 1, { topicAlias: 1 });
    first.send({ type: 14, reasonCode: 0 });
    await first.waitClosed();
    const second = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 0 } });
    assert.equal(second.connack.sessionPresent, true);
    second.send({ type: 3, topic: '', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } });
    await expectDisconnect(second, 0x82);
  });

  test('(v5) MQTT.js autoAssignTopicAlias: messages sent through aliases arrive with their topics', async () => {
    const sub = await connect(b.url, { protocolVersion: 5 });
    const inbox = new Inbox(sub);
    await subscribe(sub, 'tajs/#', { qos: 1 });
    const pub = await connect(b.url, { protocolVersion: 5, autoAssignTopicAlias: true });
    const topics = ['tajs/a', 'tajs/b', 'tajs/a', 'tajs/c', 'tajs/b', 'tajs/a'];
    for (const [i, t] of topics.entries()) await publish(pub, t, String(i), { qos: 1 });
    const got = await inbox.waitFor(topics.length);
    assert.deepEqual(got.map((m) => m.topic), topics);
    await end(sub, pub);
  });
});

describe('MQTT 5 broker without topic aliases', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({ topicAliasMaximum: 0 });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.2.2-18] (v5) Topic Alias Maximum 0: CONNACK announces none, and any alias gets DISCONNECT 0x94', async () => {
    const c = await rawV5(b.port);
    assert.equal(c.connack.properties?.topicAliasMaximum ?? 0, 0);
    c.send({ type: 3, topic: 'nota/t', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } });
    await expectDisconnect(c, 0x94);
  });
});

describe('MQTT 5 topic aliases from broker to client', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  const sequence = ['taout/one', 'taout/two', 'taout/three', 'taout/one', 'taout/two', 'taout/three', 'taout/one', 'taout/one'];

  async function receiveSequence(client: RawClient, reader: AliasReader, topics: string[], qos: 0 | 1 = 1): Promise<string[]> {
    const pub = await rawV5(b.port);
    for (const [i, t] of topics.entries()) await publishRaw(pub, t, String(i), qos);
    const got: string[] = [];
    for (let i = 0; i < topics.length; i++) {
      const p = await expectPublish(client);
      got.push(reader.topicOf(p));
      assert.equal(p.payload.toString(), String(i));
      await ackRaw(client, p);
    }
    pub.close();
    return got;
  }

  test('[MQTT-3.1.2-26][MQTT-3.3.2-11][MQTT-3.3.2-8] (v5) aliases towards a client are never 0 nor above its Topic Alias Maximum, and each is set before it is used', async () => {
    const c = await rawV5(b.port, { properties: { topicAliasMaximum: 2 } });
    await subscribeRaw(c, subscription('taout/#', 1));
    const reader = new AliasReader(2);
    assert.deepEqual(await receiveSequence(c, reader, sequence), sequence);
    c.close();
  });

  test('(v5) the broker sends repeated topics by alias (empty topic) to a client that accepts aliases', async () => {
    const c = await rawV5(b.port, { properties: { topicAliasMaximum: 10 } });
    await subscribeRaw(c, subscription('taout/#', 1));
    const reader = new AliasReader(10);
    assert.deepEqual(await receiveSequence(c, reader, sequence), sequence);
    assert.ok(reader.emptyTopics >= sequence.length - 3, `${reader.emptyTopics} of ${sequence.length} messages used an alias alone`);
    c.close();
  });

  test('[MQTT-3.1.2-27] (v5) a client with no Topic Alias Maximum, or 0, never gets a Topic Alias', async () => {
    for (const properties of [undefined, { topicAliasMaximum: 0 }]) {
      const c = await rawV5(b.port, properties ? { properties } : {});
      await subscribeRaw(c, subscription('taout/#', 1));
      const pub = await rawV5(b.port);
      for (const t of sequence) await publishRaw(pub, t, 'x', 1);
      for (const t of sequence) {
        const p = await expectPublish(c);
        assert.equal(p.properties?.topicAlias, undefined);
        assert.equal(p.topic, t);
        await ackRaw(c, p);
      }
      c.close();
      pub.close();
    }
  });

  test('[MQTT-3.3.2-7] (v5) aliases towards a client start afresh on each connection: a message re-sent after reconnect carries its topic', async () => {
    const clientId = uniqueId('alias-out');
    const c = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 30, topicAliasMaximum: 5 } });
    await subscribeRaw(c, subscription('tare/t', 1));
    const pub = await rawV5(b.port);
    await publishRaw(pub, 'tare/t', 'first', 1);
    await publishRaw(pub, 'tare/t', 'second', 1);
    const reader = new AliasReader(5);
    const p1 = await expectPublish(c);
    assert.equal(reader.topicOf(p1), 'tare/t');
    c.send({ type: 4, packetId: p1.packetId! });
    const p2 = await expectPublish(c);
    assert.equal(reader.topicOf(p2), 'tare/t');
    c.close(); // p2 not acknowledged
    const back = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 0, topicAliasMaximum: 5 } });
    const again = await expectPublish(back);
    const fresh = new AliasReader(5);
    assert.equal(fresh.topicOf(again), 'tare/t', 'the re-sent PUBLISH does not rely on an alias from the old connection');
    assert.equal(again.payload.toString(), 'second');
    back.send({ type: 4, packetId: again.packetId! });
    await publishRaw(pub, 'tare/t', 'third', 1);
    const third = await expectPublish(back);
    assert.equal(fresh.topicOf(third), 'tare/t');
    back.send({ type: 4, packetId: third.packetId! });
    await expectNothingPending(back);
    back.close();
    pub.close();
  });

  test('(v5) MQTT.js with a Topic Alias Maximum receives aliased messages under their topics', async () => {
    const sub = await connect(b.url, { protocolVersion: 5, properties: { topicAliasMaximum: 3 } });
    const inbox = new Inbox(sub);
    await subscribe(sub, 'taout/#', { qos: 1 });
    const pub = await connect(b.url, { protocolVersion: 5 });
    for (const [i, t] of sequence.entries()) await publish(pub, t, String(i), { qos: 1 });
    const got = await inbox.waitFor(sequence.length);
    assert.deepEqual(got.map((m) => m.topic), sequence);
    await end(sub, pub);
  });

  test('(v5) a PUBACK from a client is not confused by aliases: the packet ids still match', async () => {
    const c = await rawV5(b.port, { properties: { topicAliasMaximum: 1 } });
    await subscribeRaw(c, subscription('taout/#', 1));
    const reader = new AliasReader(1);
    assert.deepEqual(await receiveSequence(c, reader, sequence), sequence);
    assert.ok(reader.aliasesSeen.every((a) => a === 1));
    c.send({ type: 12 });
    assert.equal((await expectPacket(c, 13)).type, 13);
    c.close();
  });
});
