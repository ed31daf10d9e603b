// A drain that refills half the in-flight window or more hands the first half to the connection
// before preparing the rest (src/broker/session.ts, drain): a subscriber that acknowledges
// each read then works on one half while the broker prepares the other, instead of the whole
// window going back and forth as one block. Everything still arrives once and in order.

import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../src/broker/broker.js';
import type { Connection } from '../../src/broker/connection.js';
import { createLogger } from '../../src/broker/logger.js';
import { Message } from '../../src/broker/message.js';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { Packet } from '../../src/protocol/packets.js';

/** A connection that keeps every write apart, decoded. */
class RecordingConnection extends EventEmitter {
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  readonly writes: Packet[][] = [];
  private readonly decoder = new PacketDecoder({ protocolVersion: 4 });

  write(bytes: Buffer): boolean {
    const packets: Packet[] = [];
    this.decoder.decode(bytes, (p) => void packets.push(p));
    this.writes.push(packets);
    return true;
  }

  /** PUBLISH packet ids of each write since `from`. */
  publishIds(from: number): number[][] {
    return this.writes.slice(from).map((w) => w.filter((p) => p.type === 3).map((p) => (p.type === 3 ? p.packetId! : 0))).filter((ids) => ids.length > 0);
  }

  send(packet: Packet): void {
    this.emit('data', encodePacket(packet, 4));
  }

  pause(): void {}
  resume(): void {}
  end(): void {}
  destroy(): void {
    this.emit('close');
  }
}

async function connected(broker: Broker, clientId: string): Promise<RecordingConnection> {
  const conn = new RecordingConnection();
  broker.handleConnection(conn as unknown as Connection);
  conn.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId });
  assert.equal(conn.writes[0]?.[0]?.type, 2, 'CONNACK');
  return conn;
}

function subscribe(conn: RecordingConnection, filter: string): void {
  conn.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: filter, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
}

/** One input chunk acknowledging every id given. */
function ackAll(conn: RecordingConnection, ids: number[]): void {
  conn.emit('data', Buffer.concat(ids.map((packetId) => encodePacket({ type: 4, packetId, reasonCode: 0 }, 4))));
}

describe('MQTT 3.1.1 in-flight window refills', () => {
  test('[MQTT-3.3.1-6] (v3.1.1) retained messages of a new subscription leave in two halves of the retained window, each once', async () => {
    // The retained window (20), not the ordinary one (5), sets how many go out at once.
    const broker = new Broker({ logger: createLogger('silent'), maxInflight: 5, maxInflightRetained: 20 });
    await broker.start();
    const payload = Buffer.from('r');
    for (let i = 0; i < 60; i++) {
      const message = new Message(`wr/${String(i).padStart(2, '0')}`, payload, 1, true, undefined, undefined, 'loader');
      broker.retained.set(message.topic, message.own());
    }
    const conn = await connected(broker, 'wr-sub');
    const start = conn.writes.length;
    subscribe(conn, 'wr/#');
    // The SUBSCRIBE's chunk: SUBACK and the first window, cut after its first half.
    let writes = conn.publishIds(start);
    assert.deepEqual(writes.map((ids) => ids.length), [10, 10]);
    const seen: number[][] = [...writes];
    // Each acknowledgement chunk of a whole window refills it, again in two halves.
    for (let round = 0; round < 2; round++) {
      const before = conn.writes.length;
      ackAll(conn, writes.flat());
      writes = conn.publishIds(before);
      assert.deepEqual(writes.map((ids) => ids.length), [10, 10], `refill ${round + 1}`);
      seen.push(...writes);
    }
    const topics = conn.writes.flat().filter((p) => p.type === 3).map((p) => (p.type === 3 ? p.topic : ''));
    // (Retained messages of different topics have no order among them.)
    assert.deepEqual([...topics].sort(), Array.from({ length: 60 }, (_, i) => `wr/${String(i).padStart(2, '0')}`), 'every retained message once');
    assert.equal(seen.flat().length, 60);
    conn.destroy();
    await broker.close();
  });

  test('[MQTT-4.6.0-5] (v3.1.1) queued messages refilled by one acknowledgement chunk leave in two halves; a small refill in one write', async () => {
    const broker = new Broker({ logger: createLogger('silent'), maxInflight: 20 });
    await broker.start();
    const sub = await connected(broker, 'wq-sub');
    subscribe(sub, 'wq/t');
    const pub = await connected(broker, 'wq-pub');
    // 50 messages in one chunk: 20 go out as they are routed (one write at the chunk's end),
    // 30 wait in the queue for the window.
    pub.emit('data', Buffer.concat(Array.from({ length: 50 }, (_, i) => encodePacket({
      type: 3, topic: 'wq/t', payload: Buffer.from([i]), qos: 1, packetId: 1 + i, retain: false, dup: false,
    }, 4))));
    let writes = sub.publishIds(0);
    assert.deepEqual(writes.map((ids) => ids.length), [20]);
    let before = sub.writes.length;
    ackAll(sub, writes.flat());
    writes = sub.publishIds(before);
    assert.deepEqual(writes.map((ids) => ids.length), [10, 10], 'a whole window refilled');
    // Five acknowledgements refill five places: one write.
    before = sub.writes.length;
    ackAll(sub, writes.flat().slice(0, 5));
    assert.deepEqual(sub.publishIds(before).map((ids) => ids.length), [5]);
    const payloads = sub.writes.flat().filter((p) => p.type === 3).map((p) => (p.type === 3 ? p.payload[0] : -1));
    assert.deepEqual(payloads, Array.from({ length: 45 }, (_, i) => i), 'in order, once');
    sub.destroy();
    pub.destroy();
    await broker.close();
  });
});
