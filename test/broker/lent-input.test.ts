// A transport may lend the core its shared read buffer (src/transport/tcp-handle.ts lends
// small reads): the bytes are right only while the 'data' listener runs. Whatever the core keeps
// past that — payloads on their way to subscribers, retained messages, input held back while the
// client is paused — must be its own copy. Here every lent chunk is scrambled the moment the
// listener returns, so a message that still points into it arrives wrong.

import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/broker/broker.js';
import { CONNECTION_OWNER, type Connection } from '../../src/broker/connection.js';
import type { Client } from '../../src/broker/client.js';
import { createLogger } from '../../src/broker/logger.js';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { Packet, PublishPacket } from '../../src/protocol/packets.js';
import { until } from '../helpers/wait.js';

/** Lends every chunk through one shared buffer, scrambled after each listener call. */
class LendingConnection extends EventEmitter {
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  readonly received: Packet[] = [];
  private readonly shared = Buffer.alloc(4096);
  private readonly decoder = new PacketDecoder({ protocolVersion: 4 });

  write(bytes: Buffer): boolean {
    this.decoder.decode(bytes, (p) => void this.received.push(p));
    return true;
  }

  /** Sends the packets in one lent chunk. */
  send(...packets: Packet[]): void {
    const bytes = Buffer.concat(packets.map((p) => encodePacket(p, 4)));
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

async function connected(broker: Broker, clientId: string): Promise<LendingConnection> {
  const conn = new LendingConnection();
  broker.handleConnection(conn as unknown as Connection);
  conn.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId });
  assert.equal(conn.received[0]?.type, 2, 'CONNACK');
  return conn;
}

const publish = (topic: string, text: string, retain = false): PublishPacket => ({ type: 3, topic, payload: Buffer.from(text), qos: 0, retain, dup: false });

const payloads = (conn: LendingConnection): string[] => conn.received.filter((p): p is PublishPacket => p.type === 3).map((p) => `${p.topic}=${p.payload.toString()}`);

describe('MQTT 3.1.1 input lent by the transport', () => {
  test('payloads routed, retained and held while paused are copies of lent input', async () => {
    const broker = new Broker({ logger: createLogger('silent') });
    await broker.start();
    try {
      const sub = await connected(broker, 'lent-sub');
      sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'lent/#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
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
      late.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'lent/r', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
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
      sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'lent/q', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
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
});
