// A transport may lend the core its shared read buffer (src/transport/tcp-handle.ts lends
// small reads): the bytes are right only while the 'data' listener runs. Whatever the core keeps
// past that — payloads on their way to subscribers, retained messages, input held back while the
// client is paused — must be its own copy. Here every lent chunk is scrambled the moment the
// listener returns, so a message that still points into it arrives wrong.

import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/broker/broker.js';
import { CONNECTION_OWNER, type Connection } from '../../src/broker/connection.js';
import type { Client } from '../../src/broker/client.js';
import { createLogger } from '../../src/broker/logger.js';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { Packet, ProtocolVersion, PublishPacket } from '../../src/protocol/packets.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { until } from '../helpers/wait.js';

/** Lends every chunk through one shared buffer, scrambled after each listener call. */
class LendingConnection extends EventEmitter {
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  readonly received: Packet[] = [];
  private readonly shared = Buffer.alloc(4096);
  private readonly decoder: PacketDecoder;

  constructor(private readonly version: ProtocolVersion = 4) {
    super();
    this.decoder = new PacketDecoder({ protocolVersion: version });
  }

  write(bytes: Buffer): boolean {
    this.decoder.decode(bytes, (p) => void this.received.push(p));
    return true;
  }

  /** Sends the packets in one lent chunk. */
  send(...packets: Packet[]): void {
    const bytes = Buffer.concat(packets.map((p) => encodePacket(p, this.version)));
    this.shared.fill(0xee);
    bytes.copy(this.shared);
    this.emit('data', this.shared, bytes.length);
    this.shared.fill(0x5c);
  }

  get client(): Client {
    return (this as unknown as { [CONNECTION_OWNER]: Client })[CONNECTION_OWNER];
  }

  pause(): void {}
  resume(): void {}
  end(): void {}
  destroy(): void {
    this.emit('close');
  }
}

async function connected(broker: Broker, clientId: string, version: ProtocolVersion = 4, cleanStart = true): Promise<LendingConnection> {
  const conn = new LendingConnection(version);
  broker.handleConnection(conn as unknown as Connection);
  conn.send({ type: 1, protocolName: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, cleanStart, keepAlive: 0, clientId });
  // A session that outlives its connection is written to the store before CONNACK.
  await until(() => conn.received.length > 0, 5000, 'CONNACK');
  assert.equal(conn.received[0]?.type, 2, 'CONNACK');
  return conn;
}

const subscribe = (conn: LendingConnection, topicFilter: string, qos: 0 | 1): void =>
  conn.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });

const publish = (topic: string, text: string, retain = false): PublishPacket => ({ type: 3, topic, payload: Buffer.from(text), qos: 0, retain, dup: false });

const payloads = (conn: LendingConnection): string[] => conn.received.filter((p): p is PublishPacket => p.type === 3).map((p) => `${p.topic}=${p.payload.toString()}`);

describe('MQTT 3.1.1 input lent by the transport', () => {
  test('payloads routed, retained and held while paused are copies of lent input', async () => {
    const broker = new Broker({ logger: createLogger('silent') });
    await broker.start();
    try {
      const sub = await connected(broker, 'lent-sub');
      subscribe(sub, 'lent/#', 0);
      const pub = await connected(broker, 'lent-pub');

      // Routed at once, and retained (kept past the read).
      pub.send(publish('lent/a', 'one'), publish('lent/r', 'kept', true));
      // Held back whole while the publisher is paused, then decoded after resume.
      pub.client.pauseReading();
      pub.send(publish('lent/b', 'two'), publish('lent/c', 'three'));
      pub.send(publish('lent/d', 'four'));
      pub.client.resumeReading();
      await until(() => payloads(sub).length === 5, 5000, 'all five messages');
      assert.deepEqual(payloads(sub), ['lent/a=one', 'lent/r=kept', 'lent/b=two', 'lent/c=three', 'lent/d=four']);

      // A new subscriber gets the retained message as it was published.
      const late = await connected(broker, 'lent-late');
      subscribe(late, 'lent/r', 0);
      await until(() => payloads(late).length === 1, 5000, 'the retained message');
      assert.deepEqual(payloads(late), ['lent/r=kept']);
    } finally {
      await broker.close();
    }
  });

  test('hooks may keep what they are given: password, will and payloads are copies of lent input', async () => {
    const seen: { password?: Buffer; will?: Buffer; authorized: PublishPacket[]; published: Buffer[] } = { authorized: [], published: [] };
    const broker = new Broker({
      logger: createLogger('silent'),
      hooks: {
        preConnect: (_info, packet) => {
          if (packet.will !== undefined) seen.will = packet.will.payload;
          return true;
        },
        authenticate: (_client, _username, password) => {
          if (password !== undefined) seen.password = password;
          return true;
        },
        authorizePublish: (_client, packet) => {
          seen.authorized.push(packet);
          return true;
        },
        published: (packet) => void seen.published.push(packet.payload),
      },
    });
    await broker.start();
    try {
      const conn = new LendingConnection();
      broker.handleConnection(conn as unknown as Connection);
      conn.send({
        type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId: 'lent-hooks',
        username: 'u', password: Buffer.from('secret'), will: { topic: 'lent/will', payload: Buffer.from('gone'), qos: 0, retain: false },
      });
      assert.equal(conn.received[0]?.type, 2, 'CONNACK');
      conn.send(publish('lent/h', 'first'), publish('lent/h', 'second'));
      assert.equal(seen.password?.toString(), 'secret');
      assert.equal(seen.will?.toString(), 'gone');
      assert.deepEqual(seen.authorized.map((p) => p.payload.toString()), ['first', 'second']);
      assert.deepEqual(seen.published.map((b) => b.toString()), ['first', 'second']);
    } finally {
      await broker.close();
    }
  });

  test('QoS 1 messages queued behind a full in-flight window keep their lent payloads', async () => {
    const broker = new Broker({ logger: createLogger('silent'), maxInflight: 1 });
    await broker.start();
    try {
      const sub = await connected(broker, 'lent-q-sub');
      subscribe(sub, 'lent/q', 1);
      const pub = await connected(broker, 'lent-q-pub');
      for (let i = 1; i <= 3; i++) pub.send({ ...publish('lent/q', `m${i}`), qos: 1, packetId: i });
      // One in flight, two queued; each PUBACK lets the next one out.
      for (let i = 1; i <= 3; i++) {
        await until(() => payloads(sub).length === i, 5000, `message ${i}`);
        const last = sub.received.filter((p): p is PublishPacket => p.type === 3).at(-1)!;
        sub.send({ type: 4, packetId: last.packetId! });
      }
      assert.deepEqual(payloads(sub), ['lent/q=m1', 'lent/q=m2', 'lent/q=m3']);
    } finally {
      await broker.close();
    }
  });

  // A lone QoS 0 PUBLISH per read, the usual shape at low rates: its payload is not copied when
  // it is decoded (PacketDecoderOptions.lendPayloads), so whatever keeps the message must.
  test('a lone QoS 0 PUBLISH per read reaches 3.1, 3.1.1 and 5.0 subscribers as sent', async () => {
    const broker = new Broker({ logger: createLogger('silent') });
    await broker.start();
    try {
      const subs = await Promise.all(([3, 4, 5] as const).map(async (v) => {
        const sub = await connected(broker, `lone-sub-${v}`, v);
        subscribe(sub, 'lone/#', 1);
        return sub;
      }));
      const pub4 = await connected(broker, 'lone-pub-4');
      const pub5 = await connected(broker, 'lone-pub-5', 5);
      for (let i = 0; i < 5; i++) pub4.send(publish('lone/a', `v4-${i}`));
      for (let i = 0; i < 5; i++) pub5.send({ ...publish('lone/b', `v5-${i}`), properties: { userProperties: [['k', `p${i}`]], contentType: 'text/plain' } });
      const expected = [...[0, 1, 2, 3, 4].map((i) => `lone/a=v4-${i}`), ...[0, 1, 2, 3, 4].map((i) => `lone/b=v5-${i}`)];
      await until(() => subs.every((sub) => payloads(sub).length === expected.length), 5000, 'every message');
      for (const sub of subs) assert.deepEqual(payloads(sub), expected);
      const v5 = subs[2].received.filter((p): p is PublishPacket => p.type === 3).slice(5);
      assert.deepEqual(v5.map((p) => p.properties?.userProperties?.[0]?.[1]), ['p0', 'p1', 'p2', 'p3', 'p4']);
    } finally {
      await broker.close();
    }
  });

  test('QoS 0 messages queued behind QoS 1 ones keep their lent payloads', async () => {
    const broker = new Broker({ logger: createLogger('silent'), maxInflight: 1 });
    await broker.start();
    try {
      const sub = await connected(broker, 'lone-q-sub');
      subscribe(sub, 'lone/q', 1);
      const pub = await connected(broker, 'lone-q-pub');
      // One QoS 1 in flight and one queued: the QoS 0 ones queue behind them, one per read.
      pub.send({ ...publish('lone/q', 'q1'), qos: 1, packetId: 1 });
      pub.send({ ...publish('lone/q', 'q2'), qos: 1, packetId: 2 });
      for (let i = 0; i < 4; i++) pub.send(publish('lone/q', `zero-${i}`));
      // Unrelated reads overwrite the lent buffer in between.
      for (let i = 0; i < 4; i++) pub.send(publish('lone/other', 'x'.repeat(40)));
      await ackAll(sub, 6);
      assert.deepEqual(payloads(sub), ['lone/q=q1', 'lone/q=q2', 'lone/q=zero-0', 'lone/q=zero-1', 'lone/q=zero-2', 'lone/q=zero-3']);
    } finally {
      await broker.close();
    }
  });

  test('QoS 0 messages past a persistent session\'s queue window are stored as sent (SQLite store)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'midge-lent-'));
    const broker = new Broker({ logger: createLogger('silent'), store: SqliteStore.open({ path: join(dir, 'midge.db') }), maxInflight: 1, queueWindow: 2 });
    await broker.start();
    try {
      const sub = await connected(broker, 'lone-w-sub', 4, false);
      subscribe(sub, 'lone/w', 1);
      await until(() => sub.received.some((p) => p.type === 9), 5000, 'SUBACK');
      const pub = await connected(broker, 'lone-w-pub');
      // One in flight, two in the in-memory window; the QoS 0 ones go to the store only.
      for (let i = 1; i <= 3; i++) pub.send({ ...publish('lone/w', `q${i}`), qos: 1, packetId: i });
      for (let i = 0; i < 4; i++) pub.send(publish('lone/w', `zero-${i}`));
      assert.ok(broker.sessions.get('lone-w-sub')!.queue.backlog > 0, 'some QoS 0 messages are in the store only');
      for (let i = 0; i < 4; i++) pub.send(publish('lone/other', 'x'.repeat(40)));
      await ackAll(sub, 7);
      assert.deepEqual(payloads(sub), ['lone/w=q1', 'lone/w=q2', 'lone/w=q3', 'lone/w=zero-0', 'lone/w=zero-1', 'lone/w=zero-2', 'lone/w=zero-3']);
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Acknowledges each QoS 1 PUBLISH as it comes until `count` have arrived. */
async function ackAll(sub: LendingConnection, count: number): Promise<void> {
  let acked = 0;
  await until(() => {
    const got = sub.received.filter((p): p is PublishPacket => p.type === 3);
    for (; acked < got.length; acked++) if (got[acked].qos > 0) sub.send({ type: 4, packetId: got[acked].packetId! });
    return got.length >= count;
  }, 5000, `${count} messages`);
}
