// A cursor over one packet's bytes. The decoder owns a single instance and points it at each
// packet in turn, so reading a packet allocates nothing but the values it returns. Every read
// is bounds-checked against `end` (the end of the packet, or of a property block inside it):
// running past it means the Remaining Length does not match the contents, a malformed packet.

import { Buffer } from 'node:buffer';
import { malformed, protocolError } from './errors.js';
import { arrayBufferOf, byteOffsetOf, lentView, view } from './buffer-view.js';
import { allocateCopy } from './packet-buffer.js';
import { decodeUtf8 } from './utf8.js';

const EMPTY = Buffer.alloc(0);

export class ByteReader {
  buf: Buffer = EMPTY;
  pos = 0;
  end = 0;
  /**
   * The input is only lent (a transport's shared read buffer, overwritten by the next read):
   * binary() and rest() copy what they return instead of pointing into it.
   */
  lent = false;

  reset(buf: Buffer, pos: number, end: number, lent = false): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.lent = lent;
  }

  /** Lets go of the buffer read last. */
  release(): void {
    this.buf = EMPTY;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Throws unless every byte has been read: trailing bytes make the packet malformed. */
  expectEnd(what: string): void {
    if (this.pos !== this.end) throw malformed(`${what} has ${this.end - this.pos} unexpected trailing bytes`);
  }

  byte(): number {
    if (this.pos >= this.end) throw tooShort();
    return this.buf[this.pos++];
  }

  uint16(): number {
    const p = this.pos;
    if (p + 2 > this.end) throw tooShort();
    this.pos = p + 2;
    return (this.buf[p] << 8) | this.buf[p + 1];
  }

  uint32(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw tooShort();
    this.pos = p + 4;
    const b = this.buf;
    return (b[p] * 0x1000000) + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  }

  /** A non-zero Packet Identifier [MQTT-2.3.1-1] (v3.1.1), [MQTT-2.2.1-3] (v5). */
  packetId(): number {
    const id = this.uint16();
    if (id === 0) throw protocolError('Packet Identifier 0 is not allowed');
    return id;
  }

  /** A Variable Byte Integer: at most four bytes, in the fewest bytes that hold it [MQTT-1.5.5-1]. */
  variableByteInteger(): number {
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      const byte = this.byte();
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) throw malformed('a Variable Byte Integer is not in its shortest form');
        return value;
      }
      multiplier *= 128;
    }
    throw malformed('a Variable Byte Integer is longer than four bytes');
  }

  /** A length-prefixed UTF-8 Encoded String. */
  string(): string {
    const length = this.uint16();
    const start = this.pos;
    const stop = start + length;
    if (stop > this.end) throw tooShort();
    this.pos = stop;
    return decodeUtf8(this.buf, start, stop);
  }

  /** Length-prefixed Binary Data, as a view of the input (a copy if the input is lent). */
  binary(): Buffer {
    const length = this.uint16();
    const start = this.pos;
    const stop = start + length;
    if (stop > this.end) throw tooShort();
    this.pos = stop;
    return this.lent ? copyOut(this.buf, start, stop) : view(this.buf, start, stop);
  }

  /**
   * Everything left in the packet, as a view of the input even if it is lent: for a caller that
   * copies what it keeps (PacketDecoderOptions.lendPayloads). Of lent input, the view may be the
   * one returned for the read before (lentView).
   */
  restView(): Buffer {
    const start = this.pos;
    this.pos = this.end;
    return this.lent ? lentView(this.buf, start, this.end) : view(this.buf, start, this.end);
  }

  /** Everything left in the packet, as a view of the input (a copy if the input is lent). */
  rest(): Buffer {
    const start = this.pos;
    this.pos = this.end;
    return this.lent ? copyOut(this.buf, start, this.end) : view(this.buf, start, this.end);
  }
}

/** buf[start, stop) in a Buffer of its own (small ones cut from a shared slab, packet-buffer.ts). */
export function copyOut(buf: Buffer, start: number, stop: number): Buffer {
  const n = stop - start;
  const out = allocateCopy(n);
  if (n === 0) return out;
  // A plain Uint8Array view is the cheapest source for set(): buf.subarray() would construct a
  // Buffer (a subclass, through V8's slower generic path) and Buffer.copy() adds argument checks.
  out.set(new Uint8Array(arrayBufferOf(buf), byteOffsetOf(buf) + start, n));
  return out;
}

const tooShort = () => malformed('the packet is shorter than its contents require');
