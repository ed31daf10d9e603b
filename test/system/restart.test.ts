// Midge stopped with SIGTERM and started again on the same data directory: retained messages
// and persistent sessions (with their subscriptions and queued messages) are as they were.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerProcess } from '../helpers/broker-process.js';
import Database from 'better-sqlite3';
import { connect, drop, end, publish, subscribe, type Received } from '../helpers/mqttjs.js';
import { connectSession } from '../helpers/mqttjs-session.js';
import { RawClient } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';
import type { ConnackPacket, Packet, PublishPacket } from '../../src/protocol/packets.js';
import type { MqttClient } from 'mqtt';

const QUEUED = 100;

/** Runs `body` with a fresh broker process; stops it and removes its data afterwards. */
async function withBroker(body: (broker: BrokerProcess, clients: MqttClient[]) => Promise<void>): Promise<void> {
  const broker = await BrokerProcess.start();
  const clients: MqttClient[] = [];
  try {
    await body(broker, clients);
  } finally {
    for (const client of clients) client.end(true);
    await broker.stop('SIGTERM').catch(() => undefined);
    broker.dispose();
  }
}

async function stopAndStart(broker: BrokerProcess): Promise<void> {
  const ended = await broker.stop('SIGTERM');
  assert.deepEqual(ended, { code: 0, signal: null }, `midge exit on SIGTERM; stderr: ${broker.stderr}`);
  await broker.restart();
}

/** Wills waiting in the data file, as an operator would see them with the sqlite3 tool. */
function storedWills(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT client_id FROM wills ORDER BY client_id').pluck().all() as string[];
  } finally {
    db.close();
  }
}

const payloads = (messages: Received[], topic: string): string[] =>
  messages.filter((m) => m.topic === topic).map((m) => m.payload.toString());

describe('MQTT 3.1.1 restart: SIGTERM, then a new start on the same data directory', () => {
  test(
    '[MQTT-3.1.2-4] [MQTT-3.1.2-5] [MQTT-4.1.0-1] [MQTT-3.2.2-2] a persistent session keeps its subscriptions and queued ' +
      'QoS 1 and QoS 2 messages: session present, each message exactly once, in order',
    { timeout: 30_000 },
    async () => {
      await withBroker(async (broker, clients) => {
        const first = await connectSession(broker.url, { clientId: 'restart-sub', clean: false, protocolVersion: 4 });
        clients.push(first.client);
        assert.equal(first.connack.sessionPresent, false);
        await subscribe(first.client, 'restart/q1', { qos: 1 });
        await subscribe(first.client, 'restart/q2', { qos: 2 });
        await end(first.client);

        // Queued while the subscriber is offline [MQTT-3.1.2-5]; each acknowledged, so durable.
        const publisher = await connect(broker.url, { clientId: 'restart-pub' });
        clients.push(publisher);
        const sends: Promise<unknown>[] = [];
        for (let i = 0; i < QUEUED; i++) {
          sends.push(publish(publisher, 'restart/q1', `q1-${i}`, { qos: 1 }));
          sends.push(publish(publisher, 'restart/q2', `q2-${i}`, { qos: 2 }));
        }
        await Promise.all(sends);
        await end(publisher);

        await stopAndStart(broker);

        const back = await connectSession(broker.url, { clientId: 'restart-sub', clean: false, protocolVersion: 4 });
        clients.push(back.client);
        assert.equal(back.connack.sessionPresent, true, 'session present after the restart [MQTT-3.2.2-2]');

        // Published after the reconnect, to the subscriptions restored with the session (it
        // does not subscribe again): they arrive last on each topic, after every queued copy.
        const late = await connect(broker.url, { clientId: 'restart-pub-2' });
        clients.push(late);
        await publish(late, 'restart/q1', 'end', { qos: 1 });
        await publish(late, 'restart/q2', 'end', { qos: 2 });
        await until(
          () => back.inbox.messages.filter((m) => m.payload.toString() === 'end').length === 2,
          10_000,
          `both end markers (have ${back.inbox.messages.length} messages)`,
        );

        const messages = back.inbox.messages;
        const expected = (prefix: string) => [...Array.from({ length: QUEUED }, (_, i) => `${prefix}-${i}`), 'end'];
        assert.deepEqual(payloads(messages, 'restart/q1'), expected('q1'), 'QoS 1: every queued message once, in order');
        assert.deepEqual(payloads(messages, 'restart/q2'), expected('q2'), 'QoS 2: every queued message exactly once, in order [MQTT-4.3.3-2]');
        for (const m of messages) {
          assert.equal(m.packet.qos, m.topic === 'restart/q1' ? 1 : 2, `QoS of ${m.payload.toString()}`);
          assert.equal(m.packet.retain, false);
        }
        assert.equal(messages.length, 2 * QUEUED + 2);
        await end(back.client, late);
      });
    },
  );

  test(
    '[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-10] [MQTT-3.3.1-11] retained messages survive: the latest per topic, with ' +
      'its QoS, reach a subscriber that comes after the restart; a cleared topic stays cleared',
    { timeout: 30_000 },
    async () => {
      await withBroker(async (broker, clients) => {
        const publisher = await connect(broker.url, { clientId: 'retain-pub' });
        clients.push(publisher);
        await publish(publisher, 'restart/retained/a', 'a-old', { qos: 1, retain: true });
        await publish(publisher, 'restart/retained/a', 'a-new', { qos: 1, retain: true });
        await publish(publisher, 'restart/retained/b', 'b', { qos: 2, retain: true });
        await publish(publisher, 'restart/retained/deep/c', 'c', { qos: 0, retain: true });
        await publish(publisher, 'restart/retained/cleared', 'gone soon', { qos: 1, retain: true });
        await publish(publisher, 'restart/retained/cleared', '', { qos: 1, retain: true });
        await publish(publisher, 'restart/marker', 'marker', { qos: 1, retain: true });
        await end(publisher);

        await stopAndStart(broker);

        const late = await connectSession(broker.url, { clientId: 'retain-late', clean: true, protocolVersion: 4 });
        clients.push(late.client);
        assert.equal(late.connack.sessionPresent, false);
        await subscribe(late.client, 'restart/retained/#', { qos: 2 });
        // A second SUBSCRIBE, answered after the first one's retained messages were sent.
        await subscribe(late.client, 'restart/marker', { qos: 2 });
        await late.inbox.waitFor(4, 5000);
        await until(() => late.inbox.messages.some((m) => m.topic === 'restart/marker'), 5000, 'the retained marker');

        const got = late.inbox.messages
          .filter((m) => m.topic !== 'restart/marker')
          .map((m) => ({ topic: m.topic, payload: m.payload.toString(), qos: m.packet.qos, retain: m.packet.retain }))
          .sort((x, y) => (x.topic < y.topic ? -1 : 1));
        assert.deepEqual(got, [
          { topic: 'restart/retained/a', payload: 'a-new', qos: 1, retain: true },
          { topic: 'restart/retained/b', payload: 'b', qos: 2, retain: true },
          { topic: 'restart/retained/deep/c', payload: 'c', qos: 0, retain: true },
        ]);
        assert.equal(late.inbox.messages.length, 4, JSON.stringify(late.inbox.messages.map((m) => m.topic)));
        await end(late.client);
      });
    },
  );
});

/** A 3.1.1 raw connection with clean session 0; returns it with its CONNACK. */
async function rawSession(port: number, clientId: string): Promise<{ raw: RawClient; connack: ConnackPacket }> {
  const raw = await RawClient.open(port, 4);
  raw.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: false, keepAlive: 0, clientId });
  const connack = await raw.next();
  assert.equal(connack.type, 2);
  assert.equal((connack as ConnackPacket).reasonCode, 0);
  return { raw, connack: connack as ConnackPacket };
}

const ackOf = (p: Packet): { type: number; packetId: number | undefined } => ({ type: p.type, packetId: 'packetId' in p ? p.packetId : undefined });

const describePacket = (p: Packet): string =>
  p.type === 3 ? `PUBLISH ${p.topic} '${p.payload.toString()}' qos ${p.qos} id ${p.packetId} dup ${p.dup}` : `type ${p.type} id ${'packetId' in p ? p.packetId : '-'}`;

describe('MQTT 3.1.1 restart: messages in flight to an online subscriber when the broker stops', () => {
  test(
    '[MQTT-4.4.0-1] [MQTT-3.3.1-1] [MQTT-4.3.3-2] after the restart the broker resends unacknowledged PUBLISH packets with DUP ' +
      'and their packet ids, and PUBREL for those already PUBRECed; nothing is delivered twice',
    { timeout: 30_000 },
    async () => {
      await withBroker(async (broker, clients) => {
        const { raw } = await rawSession(broker.port, 'inflight-sub');
        try {
          raw.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'inflight/#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
          assert.equal((await raw.next()).type, 9);

          const publisher = await connect(broker.url, { clientId: 'inflight-pub' });
          clients.push(publisher);
          await publish(publisher, 'inflight/q1', 'a', { qos: 1 });
          await publish(publisher, 'inflight/q2', 'b', { qos: 2 });
          await publish(publisher, 'inflight/q2', 'c', { qos: 2 });
          const sent = [await raw.next(), await raw.next(), await raw.next()] as PublishPacket[];
          assert.deepEqual(sent.map((p) => `${p.type} ${p.payload.toString()} ${p.qos}`), ['3 a 1', '3 b 2', '3 c 2']);
          const [a, b, c] = sent as [PublishPacket, PublishPacket, PublishPacket];
          // Only 'b' gets its PUBREC; the broker answers PUBREL, so it has taken the PUBREC in.
          raw.send({ type: 5, packetId: b.packetId! });
          assert.deepEqual(ackOf(await raw.next()), { type: 6, packetId: b.packetId });
          raw.close();
          await end(publisher);

          await stopAndStart(broker);

          const back = await rawSession(broker.port, 'inflight-sub');
          const again = back.raw;
          try {
            assert.equal(back.connack.sessionPresent, true);
            const resent = [await again.next(), await again.next(), await again.next()];
            const publishes = resent.filter((p): p is PublishPacket => p.type === 3);
            const pubrels = resent.filter((p) => p.type === 6);
            assert.deepEqual(
              publishes.map(describePacket),
              [a, c].map((p) => describePacket({ ...p, dup: true })),
              'unacknowledged PUBLISH packets again, in order, DUP set, same packet ids',
            );
            assert.deepEqual(pubrels.map(ackOf), [{ type: 6, packetId: b.packetId }], 'PUBREL again for the PUBRECed message');

            again.send({ type: 4, packetId: a.packetId! });
            again.send({ type: 7, packetId: b.packetId! });
            again.send({ type: 5, packetId: c.packetId! });
            assert.deepEqual(ackOf(await again.next()), { type: 6, packetId: c.packetId });
            again.send({ type: 7, packetId: c.packetId! });

            // A new message comes next: nothing of a, b or c is sent a second time.
            const marker = await connect(broker.url, { clientId: 'inflight-pub-2' });
            clients.push(marker);
            await publish(marker, 'inflight/q2', 'end', { qos: 1 });
            const next = await again.next();
            assert.equal(describePacket(next).replace(/ id \d+/, ''), "PUBLISH inflight/q2 'end' qos 1 dup false");
            again.send({ type: 4, packetId: (next as PublishPacket).packetId! });
            await end(marker);
          } finally {
            again.close();
          }
        } finally {
          raw.close();
        }
      });
    },
  );
});

describe('MQTT 5 restart: session expiry is counted across a stop and start', () => {
  test(
    'a session with Session Expiry Interval 2 s is gone once 2 s have passed (session present 0, nothing queued delivered); ' +
      'one with 3600 s is resumed with its queued message',
    { timeout: 30_000 },
    async () => {
      await withBroker(async (broker, clients) => {
        const open = async (clientId: string, expiry: number, clean: boolean) => {
          const c = await connectSession(broker.url, {
            clientId,
            clean,
            protocolVersion: 5,
            properties: { sessionExpiryInterval: expiry },
          });
          clients.push(c.client);
          return c;
        };
        const short = await open('v5-short', 2, true);
        const long = await open('v5-long', 3600, true);
        await subscribe(short.client, 'v5/expiry/short', { qos: 1 });
        await subscribe(long.client, 'v5/expiry/long', { qos: 1 });
        await end(short.client, long.client);
        // The broker saw the DISCONNECTs no later than this: the short session ends by +2 s.
        const disconnected = Date.now();

        const publisher = await connect(broker.url, { clientId: 'v5-pub', protocolVersion: 5 });
        clients.push(publisher);
        await publish(publisher, 'v5/expiry/short', 'queued for short', { qos: 1 });
        await publish(publisher, 'v5/expiry/long', 'queued for long', { qos: 1 });
        await end(publisher);

        await stopAndStart(broker);

        // Time is the subject here: wait out the expiry interval (with a margin), then check.
        // It counts from the disconnect, not from the new start: a restart does not extend it.
        const expiredAt = disconnected + 2000 + 500;
        await until(() => Date.now() >= expiredAt, 10_000, 'the 2 s session expiry to pass');

        const shortBack = await open('v5-short', 2, false);
        assert.equal(shortBack.connack.sessionPresent, false, 'the 2 s session expired across the restart');
        // It has no subscription now; a new one, with a message after it, shows nothing old came.
        await subscribe(shortBack.client, 'v5/expiry/marker', { qos: 1 });
        const marker = await connect(broker.url, { clientId: 'v5-marker', protocolVersion: 5 });
        clients.push(marker);
        await publish(marker, 'v5/expiry/marker', 'marker', { qos: 1 });
        await shortBack.inbox.waitFor(1, 5000);
        assert.deepEqual(shortBack.inbox.messages.map((m) => m.payload.toString()), ['marker']);

        const longBack = await open('v5-long', 3600, false);
        assert.equal(longBack.connack.sessionPresent, true, 'the 3600 s session survived the restart');
        await longBack.inbox.waitFor(1, 5000);
        assert.deepEqual(longBack.inbox.messages.map((m) => m.payload.toString()), ['queued for long']);
        await end(shortBack.client, longBack.client, marker);
      });
    },
  );
});

describe('MQTT 5 restart: a will waiting out its Will Delay Interval', () => {
  test('survives a stop and start in the store, and is published once its delay has passed', { timeout: 30_000 }, async () => {
    await withBroker(async (broker, clients) => {
      const { client } = await connectSession(broker.url, {
        clientId: 'will-client',
        clean: true,
        protocolVersion: 5,
        properties: { sessionExpiryInterval: 60 },
        will: { topic: 'restart/will', payload: Buffer.from('gone'), qos: 1, retain: true, properties: { willDelayInterval: 2 } },
      });
      clients.push(client);
      // Lost without DISCONNECT: the will waits 2 s, and is written to the store meanwhile.
      drop(client);
      const droppedAt = Date.now();
      await until(() => storedWills(broker.dbPath).includes('will-client'), 5000, 'the pending will in midge.db');

      // Usually back within the delay, so the restored timer fires it; after a slow restart it
      // is due at load and fires then. Either way, not before its time.
      await stopAndStart(broker);

      // Retained, so the watcher gets it whether it is published before or after it subscribes.
      const watcher = await connectSession(broker.url, { clientId: 'will-watcher', clean: true, protocolVersion: 5 });
      clients.push(watcher.client);
      await subscribe(watcher.client, 'restart/will', { qos: 1 });
      const [will] = await watcher.inbox.waitFor(1, 10_000);
      assert.ok(Date.now() >= droppedAt + 2000, 'the will came before its delay was over');
      assert.equal(will!.payload.toString(), 'gone');
      await until(() => storedWills(broker.dbPath).length === 0, 5000, 'the published will to leave midge.db');
      await end(watcher.client);
    });
  });
});
