// MQTT 5.0 test helpers on top of RawClient: connect and read the CONNACK, subscribe, expect a
// packet of a given type, prove that nothing else is pending (a PINGREQ answered first), and
// measure the size of every packet the broker sends.

import assert from 'node:assert/strict';
import { RawClient } from './raw-client.js';
import type {
  AckPacket,
  AuthPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  Packet,
  Properties,
  PublishPacket,
  QoS,
  SubackPacket,
  Subscription,
  UnsubackPacket,
} from '../../src/protocol/packets.js';

let idCounter = 0;

/** A client id unique in this process, readable in logs. */
export function uniqueId(prefix = 'v5'): string {
  return `${prefix}-${process.pid.toString(36)}-${(idCounter++).toString(36)}`;
}

/** A 5.0 CONNECT with the given fields over the defaults. */
export function connectPacket(fields: Partial<ConnectPacket> = {}): ConnectPacket {
  return {
    type: 1,
    protocolName: 'MQTT',
    protocolVersion: 5,
    cleanStart: true,
    keepAlive: 0,
    clientId: uniqueId(),
    ...fields,
  };
}

/** Opens a 5.0 connection, sends CONNECT and returns the first packet the broker answers with. */
export async function openV5(port: number, fields: Partial<ConnectPacket> = {}): Promise<{ client: RawClient; first: Packet }> {
  const client = await RawClient.open(port, 5);
  client.send(connectPacket(fields));
  const first = await client.next();
  return { client, first };
}

/** Opens a 5.0 connection and returns its CONNACK, whatever its reason code. */
export async function connackOf(port: number, fields: Partial<ConnectPacket> = {}): Promise<{ client: RawClient; connack: ConnackPacket }> {
  const { client, first } = await openV5(port, fields);
  assert.equal(first.type, 2, `expected CONNACK, got ${JSON.stringify(first)}`);
  return { client, connack: first as ConnackPacket };
}

/** A connected 5.0 RawClient (CONNACK 0x00 checked); the CONNACK is kept in `connack`. */
export async function rawV5(port: number, fields: Partial<ConnectPacket> = {}): Promise<RawClient & { connack: ConnackPacket }> {
  const { client, connack } = await connackOf(port, fields);
  assert.equal(connack.reasonCode, 0, `CONNACK refused: ${JSON.stringify(connack)}`);
  return Object.assign(client, { connack });
}

export function subscription(topicFilter: string, qos: QoS = 1, options: Partial<Subscription> = {}): Subscription {
  return { topicFilter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0, ...options };
}

let packetIds = 1;
/** Packet ids for packets the tests send; unique enough across one test file. */
export function nextPacketId(): number {
  packetIds = (packetIds % 60000) + 1;
  return packetIds;
}

/** Sends SUBSCRIBE and returns the SUBACK (checked to carry the same packet id). */
export async function subscribeRaw(client: RawClient, subs: Subscription | Subscription[], properties?: Properties): Promise<SubackPacket> {
  const packetId = nextPacketId();
  client.send({ type: 8, packetId, subscriptions: Array.isArray(subs) ? subs : [subs], ...(properties ? { properties } : {}) });
  const suback = await expectPacket(client, 9);
  assert.equal(suback.packetId, packetId);
  return suback;
}

export async function unsubscribeRaw(client: RawClient, filters: string[]): Promise<UnsubackPacket> {
  const packetId = nextPacketId();
  client.send({ type: 10, packetId, topicFilters: filters });
  const unsuback = await expectPacket(client, 11);
  assert.equal(unsuback.packetId, packetId);
  return unsuback;
}

type PacketOfType<T extends Packet['type']> = T extends 4 | 5 | 6 | 7 ? AckPacket & { type: T } : Extract<Packet, { type: T }>;

/** The next packet, which must be of the given type. */
export async function expectPacket<T extends Packet['type']>(client: RawClient, type: T, ms = 5000): Promise<PacketOfType<T>> {
  const packet = await client.next(ms);
  assert.equal(packet.type, type, `expected packet type ${type}, got ${JSON.stringify(packet, bufferReplacer)}`);
  return packet as PacketOfType<T>;
}

export const expectPublish = (client: RawClient, ms = 5000): Promise<PublishPacket> => expectPacket(client, 3, ms);
export const expectAuth = (client: RawClient, ms = 5000): Promise<AuthPacket> => expectPacket(client, 15, ms);

/** The next packet is a DISCONNECT with this reason code, and the broker then closes the connection. */
export async function expectDisconnect(client: RawClient, reasonCode: number, ms = 5000): Promise<DisconnectPacket> {
  const packet = await expectPacket(client, 14, ms);
  assert.equal(packet.reasonCode ?? 0, reasonCode, `DISCONNECT reason 0x${(packet.reasonCode ?? 0).toString(16)}, expected 0x${reasonCode.toString(16)}`);
  await client.waitClosed(ms);
  return packet;
}

/**
 * Proves nothing is pending before now: the broker answers packets in order, so if a PINGREQ sent
 * now is answered by the next packet received, nothing else was sent in between.
 */
export async function expectNothingPending(client: RawClient, what = 'no other packet'): Promise<void> {
  client.send({ type: 12 });
  const packet = await client.next();
  assert.equal(packet.type, 13, `${what}: got ${JSON.stringify(packet, bufferReplacer)}`);
}

/** Sends a PUBLISH; for QoS 1/2 waits for and returns the PUBACK / PUBREC. */
export async function publishRaw(client: RawClient, topic: string, payload: string | Buffer, qos: QoS = 0, properties?: Properties, retain = false): Promise<AckPacket | undefined> {
  const packet: PublishPacket = { type: 3, topic, payload: Buffer.from(payload), qos, retain, dup: false };
  if (qos > 0) packet.packetId = nextPacketId();
  if (properties !== undefined) packet.properties = properties;
  client.send(packet);
  if (qos === 0) return undefined;
  const ack = await expectPacket(client, qos === 1 ? 4 : 5);
  assert.equal(ack.packetId, packet.packetId);
  if (qos === 2 && (ack.reasonCode ?? 0) < 0x80) {
    client.send({ type: 6, packetId: packet.packetId! });
    const comp = await expectPacket(client, 7);
    assert.equal(comp.packetId, packet.packetId);
  }
  return ack;
}

/** Acknowledges a received PUBLISH as its QoS requires (QoS 2: PUBREC, wait PUBREL, PUBCOMP). */
export async function ackRaw(client: RawClient, publish: PublishPacket): Promise<void> {
  if (publish.qos === 1) client.send({ type: 4, packetId: publish.packetId! });
  if (publish.qos === 2) {
    client.send({ type: 5, packetId: publish.packetId! });
    const rel = await expectPacket(client, 6);
    assert.equal(rel.packetId, publish.packetId);
    client.send({ type: 7, packetId: publish.packetId! });
  }
}

/** JSON.stringify replacer that prints buffers as text. */
export function bufferReplacer(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return `<${Buffer.from((value as { data: number[] }).data).toString('utf8')}>`;
  }
  return value;
}

/**
 * Splits what the broker writes on a RawClient's socket into whole packets, as bytes: for checks
 * on sizes and exact encodings that the decoded form hides. Attach before the packets arrive.
 */
export class WireLog {
  readonly frames: Buffer[] = [];
  private pending = Buffer.alloc(0);

  constructor(client: RawClient) {
    client.socket.on('data', (chunk: Buffer) => this.take(chunk));
  }

  /** Frames of one packet type (first byte's high nibble). */
  ofType(type: number): Buffer[] {
    return this.frames.filter((f) => f[0] >> 4 === type);
  }

  private take(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 2) {
      let multiplier = 1;
      let remaining = 0;
      let i = 1;
      let complete = false;
      for (; i < this.pending.length && i <= 4; i++) {
        const byte = this.pending[i];
        remaining += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) return;
      const total = i + 1 + remaining;
      if (this.pending.length < total) return;
      this.frames.push(this.pending.subarray(0, total));
      this.pending = this.pending.subarray(total);
    }
  }
}

/** Decodes a Variable Byte Integer at `offset`; returns its value and how many bytes it took. */
export function readVarInt(bytes: Buffer, offset: number): { value: number; length: number } {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    const byte = bytes[offset + i];
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { value, length: i + 1 };
    multiplier *= 128;
  }
  throw new Error('Variable Byte Integer longer than 4 bytes');
}

/** Time passes: only for tests about time itself (expiry, will delay). */
export function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
