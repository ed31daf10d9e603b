// One MQTT 3.1.1 connection of the load generator, on a raw socket with the project's codec.
// Cheap on purpose, so that the generator is never what limits a run: a PUBLISH is encoded once
// (encodePacket) into a template, and each message is a copy of it with the send time,
// publisher id and sequence number stamped into the payload and, at QoS > 0, the packet id;
// many messages go out in one write. Acks for a chunk of input leave in one write too.

import { connect, type Socket } from 'node:net';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { Packet, PublishPacket, QoS } from '../../src/protocol/packets.js';
import type { Clock } from './clock.js';
import { Histogram } from './histogram.js';
import { StreamTracker } from './stream-tracker.js';

/** Payload layout: send time (µs since the epoch, float64), publisher id, sequence number. */
export const PAYLOAD_HEADER = 16;

const PUBACK = 4;
const PUBREC = 5;
const PUBREL = 6;
const PUBCOMP = 7;

/** First byte of each 4-byte ack (PUBACK..PUBCOMP), taken from the project's encoder. */
const ACK_FIRST_BYTE: number[] = [];
for (const type of [PUBACK, PUBREC, PUBREL, PUBCOMP] as const) {
  const bytes = encodePacket({ type, packetId: 0x0102 }, 4);
  if (bytes.length !== 4 || bytes[1] !== 2 || bytes[2] !== 1 || bytes[3] !== 2) {
    throw new Error(`unexpected encoding of ack type ${type}: ${bytes.toString('hex')}`);
  }
  ACK_FIRST_BYTE[type] = bytes[0];
}
const DISCONNECT = encodePacket({ type: 14 }, 4);

/** The measured window, in µs since the epoch. */
export interface Window {
  warmupEndUs: number;
  endUs: number;
}

/** A PUBLISH encoded once, with the offsets where each message differs. */
export class PublishTemplate {
  readonly bytes: Buffer;
  readonly payloadOffset: number;
  readonly packetIdOffset: number;

  constructor(topic: string, qos: QoS, payloadSize: number, retain = false) {
    const payload = Buffer.alloc(Math.max(payloadSize, PAYLOAD_HEADER), 0x2e);
    const packet: PublishPacket = { type: 3, topic, payload, qos, retain, dup: false, packetId: qos > 0 ? 1 : undefined };
    // Copied: the encoder may hand out a slice of a shared slab.
    this.bytes = Buffer.from(encodePacket(packet, 4));
    this.payloadOffset = this.bytes.length - payload.length;
    this.packetIdOffset = qos > 0 ? this.payloadOffset - 2 : -1;
    // Check the offsets once by decoding the template back.
    const probe = Buffer.from(this.bytes);
    probe.writeUInt32LE(0xdeadbeef, this.payloadOffset + 8);
    if (qos > 0) probe.writeUInt16BE(0x4242, this.packetIdOffset);
    let ok = false;
    new PacketDecoder({ protocolVersion: 4 }).decode(probe, (p) => {
      ok = p.type === 3 && p.topic === topic && p.payload.readUInt32LE(8) === 0xdeadbeef && (qos === 0 || p.packetId === 0x4242);
    });
    if (!ok) throw new Error(`PUBLISH template for ${topic} does not decode back`);
  }
}

/** Whoever sent this connection's QoS 1/2 messages and takes their acks. */
export interface AckReceiver {
  onAck(type: number, packetId: number): void;
  afterChunk(): void;
}

export interface ClientHooks {
  /** Called after each chunk of input has been handled (acks already queued). */
  afterChunk?: () => void;
}

export class BenchClient {
  readonly socket: Socket;
  private readonly decoder = new PacketDecoder({ protocolVersion: 4 });
  private out = Buffer.allocUnsafe(512);
  private outLength = 0;
  private connackWaiter: ((code: number, sessionPresent: boolean) => void) | undefined;
  private subackWaiters = new Map<number, (codes: number[]) => void>();
  private nextSubscribeId = 1;
  /** Time the current chunk arrived, µs since the epoch. */
  chunkUs = 0;
  open = false;
  closed = false;
  /** The session-present flag of the CONNACK. */
  sessionPresent = false;
  error: string | undefined;
  publisher: AckReceiver | undefined;
  subscriber: Subscriber | undefined;
  hooks: ClientHooks = {};

  constructor(
    readonly clientId: string,
    readonly clock: Clock,
    port: number,
  ) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => {
      this.error ??= `${this.clientId}: ${err.message}`;
    });
    this.socket.on('close', () => {
      if (!this.closed && this.error === undefined) this.error = `${this.clientId}: connection closed by the broker`;
      this.closed = true;
      this.open = false;
      this.connackWaiter?.(-1, false);
      for (const waiter of this.subackWaiters.values()) waiter([]);
      this.subackWaiters.clear();
    });
  }

  /**
   * Sends CONNECT and resolves on a successful CONNACK. `cleanStart: false` (clean session 0)
   * asks for a persistent session, whose subscriptions and in-flight messages the broker keeps
   * (and a durable broker writes to its store).
   */
  connect(timeoutMs: number, options: { keepAlive?: number; cleanStart?: boolean } = {}): Promise<void> {
    const keepAlive = options.keepAlive ?? 600;
    const cleanStart = options.cleanStart ?? true;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connackWaiter = undefined;
        reject(new Error(`${this.clientId}: no CONNACK within ${timeoutMs} ms`));
      }, timeoutMs);
      this.connackWaiter = (code, sessionPresent) => {
        clearTimeout(timer);
        this.connackWaiter = undefined;
        this.sessionPresent = sessionPresent;
        if (code === 0) {
          this.open = true;
          resolve();
        } else {
          reject(new Error(`${this.clientId}: ${code < 0 ? this.error ?? 'closed before CONNACK' : `CONNACK return code ${code}`}`));
        }
      };
      const send = (): void => {
        this.socket.write(encodePacket({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart, keepAlive, clientId: this.clientId }, 4));
      };
      if (this.socket.connecting) this.socket.once('connect', send);
      else send();
    });
  }

  /** Subscribes to one filter and resolves with the granted QoS. */
  subscribe(topicFilter: string, qos: QoS, timeoutMs: number): Promise<number> {
    const packetId = this.nextSubscribeId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.subackWaiters.delete(packetId);
        reject(new Error(`${this.clientId}: no SUBACK within ${timeoutMs} ms`));
      }, timeoutMs);
      this.subackWaiters.set(packetId, (codes) => {
        clearTimeout(timer);
        this.subackWaiters.delete(packetId);
        if (codes.length === 1 && codes[0] <= 2) resolve(codes[0]);
        else reject(new Error(`${this.clientId}: SUBACK ${codes.length === 0 ? this.error ?? 'lost' : codes.join(',')} for ${topicFilter}`));
      });
      this.socket.write(encodePacket({
        type: 8,
        packetId,
        subscriptions: [{ topicFilter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
      }, 4));
    });
  }

  /** DISCONNECT and close; resolves when the socket is closed (or after timeoutMs, destroyed). */
  end(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.open && !this.socket.destroyed) this.socket.end(DISCONNECT);
      else this.socket.destroy();
    });
  }

  /** Queues a 4-byte ack to leave with the others of this chunk. */
  queueAck(type: number, packetId: number): void {
    if (this.outLength + 4 > this.out.length) {
      const bigger = Buffer.allocUnsafe(this.out.length * 2);
      this.out.copy(bigger, 0, 0, this.outLength);
      this.out = bigger;
    }
    const o = this.outLength;
    this.out[o] = ACK_FIRST_BYTE[type];
    this.out[o + 1] = 2;
    this.out[o + 2] = packetId >>> 8;
    this.out[o + 3] = packetId & 0xff;
    this.outLength = o + 4;
  }

  /**
   * Most QoS 1/2 PUBLISH packets in one input chunk. Acks go out after each chunk, so the broker
   * had at least this many unacknowledged at once: checks it keeps to its in-flight window.
   */
  maxUnackedSeen = 0;
  private chunkTracked = 0;

  flush(): void {
    if (this.outLength === 0 || this.socket.destroyed) return;
    const bytes = this.out.subarray(0, this.outLength);
    this.out = Buffer.allocUnsafe(this.out.length);
    this.outLength = 0;
    this.socket.write(bytes);
  }

  private onData(chunk: Buffer): void {
    this.chunkUs = this.clock.nowUs();
    this.chunkTracked = 0;
    try {
      this.decoder.decode(chunk, this.onPacket);
      if (this.chunkTracked > this.maxUnackedSeen) this.maxUnackedSeen = this.chunkTracked;
    } catch (err) {
      this.error ??= `${this.clientId}: cannot decode input: ${(err as Error).message}`;
      this.socket.destroy();
      return;
    }
    this.publisher?.afterChunk();
    this.flush();
    this.hooks.afterChunk?.();
  }

  private readonly onPacket = (packet: Packet): void => {
    switch (packet.type) {
      case 3:
        if (packet.qos > 0) this.chunkTracked++;
        if (this.subscriber !== undefined) this.subscriber.onPublish(packet, this.chunkUs);
        else this.error ??= `${this.clientId}: unexpected PUBLISH on ${packet.topic}`;
        if (packet.qos === 1) this.queueAck(PUBACK, packet.packetId!);
        else if (packet.qos === 2) this.queueAck(PUBREC, packet.packetId!);
        break;
      case PUBREL:
        this.queueAck(PUBCOMP, packet.packetId);
        break;
      case PUBACK:
      case PUBREC:
      case PUBCOMP:
        if (this.publisher !== undefined) this.publisher.onAck(packet.type, packet.packetId);
        else this.error ??= `${this.clientId}: unexpected ack type ${packet.type}`;
        break;
      case 2:
        this.connackWaiter?.(packet.reasonCode, packet.sessionPresent);
        break;
      case 9:
        this.subackWaiters.get(packet.packetId)?.(packet.reasonCodes);
        break;
      case 13:
        break;
      default:
        this.error ??= `${this.clientId}: unexpected packet type ${packet.type}`;
    }
  };
}

/** Sends numbered messages on one topic under one pacing rule. */
export class Publisher implements AckReceiver {
  readonly template: PublishTemplate;
  /** Messages sent so far; also the next sequence number. */
  sent = 0;
  sentInWindow = 0;
  acked = 0;
  inflight = 0;
  stopped = true;
  private waitingDrain = false;
  private pumpScheduled = false;
  private readonly idState = new Uint8Array(65536);
  private lastId = 0;
  /** Messages per µs for mode 'rate'. */
  private readonly ratePerUs: number;
  private startUs = 0;
  private window: Window = { warmupEndUs: 0, endUs: 0 };
  /** Set when the publisher is ahead of its pacing subscriber: called to be pumped again later. */
  onAhead: ((p: Publisher) => void) | undefined;

  constructor(
    readonly client: BenchClient,
    readonly id: number,
    topic: string,
    readonly qos: QoS,
    readonly mode: 'max' | 'rate',
    readonly maxInflight: number,
    payloadSize: number,
    ratePerSec: number,
    /** At most this many messages ahead of the lowest progress[slot] (0: no limit). */
    readonly ahead: number,
    private readonly progress: Int32Array,
    private readonly paceSlots: number[],
  ) {
    this.template = new PublishTemplate(topic, qos, payloadSize);
    this.ratePerUs = ratePerSec / 1e6;
    client.publisher = this;
    client.socket.on('drain', () => {
      this.waitingDrain = false;
      if (this.mode !== 'rate') this.pump();
    });
  }

  start(startUs: number, window: Window): void {
    this.startUs = startUs;
    this.window = window;
    this.stopped = false;
    if (this.mode !== 'rate') this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  /** All QoS 1/2 messages acknowledged (PUBACK / PUBCOMP). */
  get settled(): boolean {
    return this.inflight === 0;
  }

  /** Mode 'rate': send what is owed by `nowUs`. */
  paceTo(nowUs: number): void {
    if (this.stopped || this.waitingDrain || !this.client.open) return;
    if (nowUs >= this.window.endUs) {
      this.stopped = true;
      return;
    }
    const owed = Math.floor((nowUs - this.startUs) * this.ratePerUs) - this.sent;
    let n = this.allowance(Math.min(owed, 1000));
    if (this.qos > 0) n = Math.min(n, this.maxInflight - this.inflight);
    if (n > 0) this.sendBatch(n, nowUs);
  }

  afterChunk(): void {
    if (this.qos > 0 && this.mode !== 'rate') this.pump();
  }

  onAck(type: number, packetId: number): void {
    const state = this.idState[packetId];
    if (type === PUBACK && state === 1 && this.qos === 1) {
      this.release(packetId);
    } else if (type === PUBREC && state === 1 && this.qos === 2) {
      this.idState[packetId] = 2;
      this.client.queueAck(PUBREL, packetId);
    } else if (type === PUBREC && state === 2) {
      // A repeated PUBREC: answer it again.
      this.client.queueAck(PUBREL, packetId);
    } else if (type === PUBCOMP && state === 2) {
      this.release(packetId);
    } else {
      this.client.error ??= `${this.client.clientId}: ack type ${type} for packet id ${packetId} in state ${state}`;
    }
  }

  /** Mode 'max': send as much as flow control allows, then yield to I/O. */
  pump(): void {
    if (this.stopped || this.waitingDrain || !this.client.open) return;
    const nowUs = this.client.clock.nowUs();
    if (nowUs >= this.window.endUs) {
      this.stopped = true;
      return;
    }
    if (this.qos > 0) {
      const n = this.allowance(this.maxInflight - this.inflight);
      if (n > 0) this.sendBatch(n, nowUs);
      return;
    }
    // QoS 0: a bounded number of batches per turn, until the socket pushes back.
    for (let i = 0; i < 8; i++) {
      const n = this.allowance(64);
      if (n <= 0) return;
      if (!this.sendBatch(n, nowUs)) {
        this.waitingDrain = true;
        return;
      }
    }
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  /** n, or less if that would take this publisher more than `ahead` messages ahead. */
  private allowance(n: number): number {
    if (this.ahead === 0 || this.paceSlots.length === 0) return n;
    let slowest = Infinity;
    for (const slot of this.paceSlots) slowest = Math.min(slowest, Atomics.load(this.progress, slot));
    const room = this.ahead - (this.sent - slowest);
    if (room < n && this.mode === 'max') this.onAhead?.(this);
    return Math.min(n, room);
  }

  private release(packetId: number): void {
    this.idState[packetId] = 0;
    this.inflight--;
    this.acked++;
  }

  private nextPacketId(): number {
    let id = this.lastId;
    for (let i = 0; i < 65535; i++) {
      id = id === 65535 ? 1 : id + 1;
      if (this.idState[id] === 0) {
        this.lastId = id;
        return id;
      }
    }
    throw new Error('no free packet id');
  }

  /** Writes n messages in one buffer; returns what socket.write returned. */
  private sendBatch(n: number, nowUs: number): boolean {
    const t = this.template;
    const size = t.bytes.length;
    const buf = Buffer.allocUnsafe(size * n);
    const inWindow = nowUs >= this.window.warmupEndUs && nowUs < this.window.endUs;
    for (let i = 0, o = 0; i < n; i++, o += size) {
      t.bytes.copy(buf, o);
      const p = o + t.payloadOffset;
      buf.writeDoubleLE(nowUs, p);
      buf.writeUInt32LE(this.id, p + 8);
      buf.writeUInt32LE(this.sent++, p + 12);
      if (this.qos > 0) {
        const id = this.nextPacketId();
        this.idState[id] = 1;
        this.inflight++;
        buf.writeUInt16BE(id, o + t.packetIdOffset);
      }
    }
    if (inWindow) this.sentInWindow += n;
    return this.client.socket.write(buf);
  }
}

/** Counts, orders and times what one subscription delivers. */
export class Subscriber {
  private readonly streams = new Map<number, StreamTracker>();
  private readonly expected: Set<number>;
  received = 0;
  receivedInWindow = 0;
  unexpected = 0;
  firstReceiveUs = NaN;
  lastReceiveUs = 0;
  readonly histogram = new Histogram();
  /** When set, latency is measured from this time (retained delivery) instead of the send time. */
  originUs: number | undefined;
  window: Window = { warmupEndUs: Infinity, endUs: Infinity };

  constructor(
    readonly client: BenchClient,
    readonly id: number,
    expects: number[],
    paces: { publisher: number; slot: number }[] = [],
    private readonly progress: Int32Array = new Int32Array(1),
  ) {
    this.expected = new Set(expects);
    for (const pub of expects) this.streams.set(pub, new StreamTracker());
    for (const { publisher, slot } of paces) this.streams.get(publisher)!.paceSlot = slot;
    client.subscriber = this;
  }

  onPublish(packet: PublishPacket, nowUs: number): void {
    if (this.received++ === 0) this.firstReceiveUs = nowUs;
    this.lastReceiveUs = nowUs;
    const payload = packet.payload;
    if (payload.length < PAYLOAD_HEADER) {
      this.unexpected++;
      return;
    }
    const pub = payload.readUInt32LE(8);
    const tracker = this.streams.get(pub);
    if (tracker === undefined || !this.expected.has(pub)) {
      this.unexpected++;
      return;
    }
    tracker.record(payload.readUInt32LE(12));
    if (tracker.paceSlot >= 0) Atomics.store(this.progress, tracker.paceSlot, tracker.unique);
    if (nowUs >= this.window.warmupEndUs && nowUs < this.window.endUs) {
      this.receivedInWindow++;
      this.histogram.record(nowUs - (this.originUs ?? payload.readDoubleLE(0)));
    }
  }

  stream(pub: number): StreamTracker | undefined {
    return this.streams.get(pub);
  }

  /** Unique messages received so far, over all expected publishers. */
  get unique(): number {
    let n = 0;
    for (const t of this.streams.values()) n += t.unique;
    return n;
  }

  tally(sent: Record<number, number>): { expected: number; unique: number; duplicates: number; reordered: number; unexpected: number } {
    let expected = 0;
    let unique = 0;
    let duplicates = 0;
    let reordered = 0;
    let unexpected = this.unexpected;
    for (const [pub, tracker] of this.streams) {
      const n = sent[pub] ?? 0;
      expected += n;
      unique += tracker.uniqueBelow(n);
      duplicates += tracker.duplicates;
      reordered += tracker.reordered;
      // Sequence numbers the publisher never sent count as unexpected.
      unexpected += tracker.unique - tracker.uniqueBelow(n);
    }
    return { expected, unique, duplicates, reordered, unexpected };
  }
}
