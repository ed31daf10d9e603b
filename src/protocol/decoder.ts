// The incremental packet decoder: bytes arrive in chunks of any size, a packet may be split at
// any byte (inside the Remaining Length too), and one chunk may hold many packets
// ([MQTT-6.0.0-2] asks the same of WebSocket frames). Packets that lie whole inside a chunk are
// decoded straight from it; only a packet split across chunks is gathered in a buffer of its own.

import { Buffer } from 'node:buffer';
import { ByteReader, copyOut } from './byte-reader.js';
import { readAck } from './decode/ack.js';
import { readAuth } from './decode/auth.js';
import { readConnack } from './decode/connack.js';
import { peekProtocolVersion, readConnect } from './decode/connect.js';
import { readDisconnect } from './decode/disconnect.js';
import { readPublish } from './decode/publish.js';
import { readSuback } from './decode/suback.js';
import { readSubscribe } from './decode/subscribe.js';
import { readUnsuback } from './decode/unsuback.js';
import { readUnsubscribe } from './decode/unsubscribe.js';
import { MqttProtocolError, malformed } from './errors.js';
import { MAX_PACKET_SIZE, checkFirstByte } from './fixed-header.js';
import type { AckPacket, Packet, ProtocolVersion } from './packets.js';
import { PacketType } from './packets.js';
import { ReasonCode } from './reason-codes.js';

export interface PacketDecoderOptions {
  /** The connection's version if already known (a client decoding its server's packets). */
  protocolVersion?: ProtocolVersion;
  /** The largest packet accepted, fixed header included; larger ones throw 0x95. */
  maximumPacketSize?: number;
  /**
   * The payload of a QoS 0 PUBLISH without RETAIN decoded from lent input is a view of the lent
   * chunk, not a copy: valid only until the sink returns, so the sink copies what it keeps (the
   * broker: Message.own). Most such messages are only passed on, and the copy was a sixth of
   * the heap allocated for each (bench/alloc-per-message.mjs: 551 B, then 458 B). The view may
   * be the same object as the payload of the read before, now showing this read's bytes
   * (buffer-view.ts, lentView). Everything else from lent input is still copied.
   */
  lendPayloads?: boolean;
}

/**
 * Receives each decoded packet; returning false stops decoding and drops the rest of the bytes.
 * Called with decode()'s `owner` as `this`: one shared function serves every connection, where a
 * bound function or arrow per connection would cost ~450 bytes each.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PacketSink<T = any> = (this: T, packet: Packet) => boolean | void;

/**
 * Receives each packet decodeTo() decodes, as decode()'s sink does. A method call: V8 calls
 * (or inlines) the one method it has seen there, where `sink.call(owner, ...)` on a function
 * passed in went through its generic call for every packet (`perf record` of the live broker).
 */
export interface PacketHandler {
  handlePacket(packet: Packet): boolean | void;
}

/**
 * One reader for every decoder: parsing never re-enters, and a reader per connection would keep
 * that connection's last input chunk alive (~250 bytes of an idle connection's memory).
 */
const reader = new ByteReader();

/** chunk[pos, length): a view, or a copy when the chunk is only lent (see decode()). */
function rest(chunk: Buffer, pos: number, length: number, lent: boolean): Buffer {
  return lent ? copyOut(chunk, pos, length) : chunk.subarray(pos, length);
}

/** The buffer for a split packet starts at most this large and grows as its bytes arrive. */
const INITIAL_PENDING_CAPACITY = 64 * 1024;

export class PacketDecoder {
  /**
   * Set from the protocol level of a CONNECT as soon as that byte is read. Until then other
   * packets are decoded as 3.1.1.
   */
  protocolVersion: ProtocolVersion | undefined;
  maximumPacketSize: number;
  private readonly lendPayloads: boolean;

  /**
   * A fixed header split across chunks: its first bytes (never more than five). Made when first
   * needed: a Buffer of its own per connection costs ~180 bytes, and headers rarely split.
   */
  private head: Buffer | undefined;
  private headLength = 0;
  /** A packet split across chunks, header included, and how much of it has arrived. */
  private pending: Buffer | null = null;
  private pendingFilled = 0;
  private pendingTotal = 0;
  private pendingHeaderSize = 0;
  /** Second result of readHeader: the size of the fixed header just read. */
  private headerSize = 0;
  /** True while the sink runs, so that its own exceptions pass through untouched. */
  private inSink = false;

  constructor(options: PacketDecoderOptions = {}) {
    this.protocolVersion = options.protocolVersion;
    this.maximumPacketSize = options.maximumPacketSize ?? MAX_PACKET_SIZE;
    this.lendPayloads = options.lendPayloads === true;
  }

  /**
   * Decodes every complete packet in `chunk` (after whatever was left over from earlier chunks)
   * and passes each to `sink`, in order. Throws only MqttProtocolError, apart from exceptions
   * thrown by the sink itself, which propagate unchanged. After a throw, the bytes held back
   * are dropped: the connection is about to close.
   *
   * When the sink returns false, decoding stops and the bytes of `chunk` after that packet are
   * returned, not decoded: a caller that only paused (backpressure) feeds them in again later.
   *
   * With `lentLength`, the input is chunk[0, lentLength) and `chunk` is only lent: its owner
   * overwrites it once this returns (a transport's shared read buffer). Then nothing delivered,
   * kept or returned points into it: payloads and binary fields are copied, and so are the
   * bytes held back or returned; a PUBLISH followed by another copies the rest of the chunk
   * once. A read of one packet then costs one Buffer at most, and a PUBACK none at all. With
   * the `lendPayloads` option, a lone QoS 0 PUBLISH costs none either.
   */
  decode<T>(chunk: Buffer, sink: PacketSink<T>, owner?: T, lentLength?: number): Buffer | undefined {
    return this.decodeWith(chunk, sink, owner, lentLength);
  }

  /** decode(), handing each packet to `handler.handlePacket`. */
  decodeTo(chunk: Buffer, handler: PacketHandler, lentLength?: number): Buffer | undefined {
    return this.decodeWith(chunk, undefined, handler, lentLength);
  }

  private decodeWith<T>(chunk: Buffer, sink: PacketSink<T> | undefined, owner: T | undefined, lentLength: number | undefined): Buffer | undefined {
    try {
      return this.run(chunk, lentLength ?? chunk.length, lentLength !== undefined, sink, owner);
    } catch (err) {
      const fromSink = this.inSink;
      this.inSink = false;
      this.discard();
      if (fromSink || err instanceof MqttProtocolError) throw err;
      // A bug of ours must still cost only this connection, with the reason a peer understands.
      throw malformed(`undecodable packet (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  private run<T>(chunk: Buffer, length: number, lent: boolean, sink: PacketSink<T> | undefined, owner: T | undefined): Buffer | undefined {
    let pos = 0;
    if (this.headLength > 0 || this.pending !== null) {
      pos = this.completePending(chunk, length);
      if (pos < 0) return undefined;
      const buf = this.pending!;
      this.pending = null;
      const packet = this.parse(buf, buf[0], this.pendingHeaderSize, this.pendingTotal, false);
      if (!this.deliver(packet, sink, owner)) return rest(chunk, pos, length, lent);
    }
    while (pos < length) {
      const remaining = this.readHeader(chunk, pos, length);
      if (remaining < 0) {
        chunk.copy((this.head ??= Buffer.alloc(5)), 0, pos, length);
        this.headLength = length - pos;
        return undefined;
      }
      const headerSize = this.headerSize;
      const total = headerSize + remaining;
      if (total > this.maximumPacketSize && chunk[pos] >> 4 === PacketType.CONNECT) {
        // Refused unread, but its version, if in this chunk, still picks the CONNACK's format.
        this.protocolVersion = peekProtocolVersion(chunk, pos + headerSize, length) ?? this.protocolVersion;
      }
      let end = pos + this.checkSize(total);
      if (end > length) {
        this.startPending(chunk, pos, length, end - pos, headerSize);
        return undefined;
      }
      if (lent && end < length && chunk[pos] >> 4 === PacketType.PUBLISH && chunk[end] >> 4 === PacketType.PUBLISH) {
        // PUBLISH after PUBLISH in lent input: one copy of the rest of the chunk, whose payloads
        // are then views of it, costs less than a copy per payload (callgrind: from two on).
        chunk = copyOut(chunk, pos, length);
        end -= pos;
        length -= pos;
        pos = 0;
        lent = false;
      }
      const packet = this.parse(chunk, chunk[pos], pos + headerSize, end, lent);
      pos = end;
      if (!this.deliver(packet, sink, owner)) return rest(chunk, pos, length, lent);
    }
    return undefined;
  }

  private deliver<T>(packet: Packet, sink: PacketSink<T> | undefined, owner: T | undefined): boolean {
    this.inSink = true;
    const more = sink === undefined ? (owner as PacketHandler).handlePacket(packet) : sink.call(owner as T, packet);
    this.inSink = false;
    if (more === false) {
      this.discard();
      return false;
    }
    return true;
  }

  /**
   * Reads a fixed header at buf[pos], checking the type and flags. Returns the Remaining
   * Length (and sets headerSize), or -1 if the header is not complete before `end`.
   */
  private readHeader(buf: Buffer, pos: number, end: number): number {
    checkFirstByte(buf[pos], this.protocolVersion ?? 4);
    let value = 0;
    let multiplier = 1;
    let p = pos + 1;
    for (let i = 0; i < 4; i++) {
      if (p >= end) return -1;
      const byte = buf[p++];
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        // The shortest form is required [MQTT-1.5.5-1] (v5): a last byte of 0 could be dropped.
        if (byte === 0 && i > 0) throw malformed('the Remaining Length is not in its shortest form');
        this.headerSize = p - pos;
        return value;
      }
      multiplier *= 128;
    }
    throw malformed('the Remaining Length is longer than four bytes');
  }

  /** Throws 0x95 for a packet over the limit, before any of its body is buffered. */
  private checkSize(total: number): number {
    if (total > this.maximumPacketSize) {
      throw new MqttProtocolError(
        `a packet of ${total} bytes exceeds the maximum packet size of ${this.maximumPacketSize}`,
        ReasonCode.PacketTooLarge,
      );
    }
    return total;
  }

  /**
   * Feeds the start of `chunk` to the split header or packet held back. Returns the offset in
   * `chunk` just after the completed packet (then in `pending`), or -1 if it is still incomplete.
   */
  private completePending(chunk: Buffer, length: number): number {
    let pos = 0;
    if (this.pending === null) {
      const head = (this.head ??= Buffer.alloc(5));
      while (this.headLength < 5 && pos < length) {
        const byte = chunk[pos++];
        head[this.headLength++] = byte;
        if (this.headLength >= 2 && (byte & 0x80) === 0) break;
      }
      const remaining = this.readHeader(head, 0, this.headLength);
      if (remaining < 0) return -1;
      const headerSize = this.headerSize;
      const total = this.checkSize(headerSize + remaining);
      this.headLength = 0;
      this.startPending(head, 0, headerSize, total, headerSize);
    }
    const take = Math.min(this.pendingTotal - this.pendingFilled, length - pos);
    this.append(chunk, pos, pos + take);
    pos += take;
    return this.pendingFilled === this.pendingTotal ? pos : -1;
  }

  private startPending(src: Buffer, start: number, stop: number, total: number, headerSize: number): void {
    this.pendingTotal = total;
    this.pendingHeaderSize = headerSize;
    this.pendingFilled = 0;
    // A peer announcing a huge packet gets memory only as its bytes actually arrive.
    this.pending = Buffer.allocUnsafe(Math.min(total, Math.max(INITIAL_PENDING_CAPACITY, stop - start)));
    this.append(src, start, stop);
  }

  private append(src: Buffer, start: number, stop: number): void {
    let buf = this.pending!;
    const filled = this.pendingFilled;
    const needed = filled + (stop - start);
    if (needed > buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.pendingTotal, Math.max(buf.length * 2, needed)));
      buf.copy(grown, 0, 0, filled);
      buf = grown;
      this.pending = grown;
    }
    src.copy(buf, filled, start, stop);
    this.pendingFilled = needed;
  }

  private discard(): void {
    this.pending = null;
    this.headLength = 0;
  }

  /** Decodes the packet whose body is buf[start, end) and whose first byte is byte0. */
  private parse(buf: Buffer, byte0: number, start: number, end: number, lent: boolean): Packet {
    reader.reset(buf, start, end, lent);
    try {
      return this.read(byte0);
    } finally {
      // The shared reader must not keep the input alive (a split packet can be megabytes).
      reader.release();
    }
  }

  private read(byte0: number): Packet {
    const r = reader;
    const type = byte0 >> 4;
    switch (type) {
      case PacketType.PUBLISH:
        return readPublish(r, byte0 & 0x0f, this.protocolVersion ?? 4, this.lendPayloads);
      case PacketType.PUBACK:
      case PacketType.PUBREC:
      case PacketType.PUBREL:
      case PacketType.PUBCOMP:
        return readAck(r, type as AckPacket['type'], this.protocolVersion ?? 4);
      case PacketType.CONNECT:
        return readConnect(r, this);
      case PacketType.CONNACK:
        return readConnack(r, this.protocolVersion ?? 4);
      case PacketType.SUBSCRIBE:
        return readSubscribe(r, this.protocolVersion ?? 4);
      case PacketType.SUBACK:
        return readSuback(r, this.protocolVersion ?? 4);
      case PacketType.UNSUBSCRIBE:
        return readUnsubscribe(r, this.protocolVersion ?? 4);
      case PacketType.UNSUBACK:
        return readUnsuback(r, this.protocolVersion ?? 4);
      case PacketType.PINGREQ:
        r.expectEnd('PINGREQ');
        return { type: PacketType.PINGREQ };
      case PacketType.PINGRESP:
        r.expectEnd('PINGRESP');
        return { type: PacketType.PINGRESP };
      case PacketType.DISCONNECT:
        return readDisconnect(r, this.protocolVersion ?? 4);
      case PacketType.AUTH:
        return readAuth(r);
      default:
        // checkFirstByte has already refused type 0.
        throw malformed(`packet type ${type} is reserved`);
    }
  }
}
