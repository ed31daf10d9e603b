// Writing the MQTT data types into a buffer the encoder has sized exactly. Each function
// returns the offset after what it wrote. Sizes and value checks happen before allocation (in
// the *Size functions of the encoders), so nothing here needs to check bounds.

import { MqttProtocolError, malformed } from './errors.js';
import { MAX_REMAINING_LENGTH, variableByteIntegerSize } from './fixed-header.js';
import { allocatePacketBuffer } from './packet-buffer.js';
import { ReasonCode } from './reason-codes.js';
import { utf8Length, writeUtf8 } from './utf8.js';

export function writeVariableByteInteger(buf: Buffer, offset: number, value: number): number {
  while (value >= 0x80) {
    buf[offset++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[offset++] = value;
  return offset;
}

export function writeUint16(buf: Buffer, offset: number, value: number): number {
  buf[offset] = value >>> 8;
  buf[offset + 1] = value & 0xff;
  return offset + 2;
}

export function writeUint32(buf: Buffer, offset: number, value: number): number {
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
  return offset + 4;
}

/** A length-prefixed string whose UTF-8 length `byteLength` came from stringSize. */
export function writeString(buf: Buffer, offset: number, value: string, byteLength: number): number {
  buf[offset] = byteLength >>> 8;
  buf[offset + 1] = byteLength & 0xff;
  return writeUtf8(buf, offset + 2, value, byteLength);
}

/** A length-prefixed string whose length was checked but not kept: measured again here. */
export function writeStringMeasured(buf: Buffer, offset: number, value: string): number {
  return writeString(buf, offset, value, utf8Length(value));
}

export function writeBinary(buf: Buffer, offset: number, value: Uint8Array): number {
  const n = value.length;
  buf[offset] = n >>> 8;
  buf[offset + 1] = n & 0xff;
  buf.set(value, offset + 2);
  return offset + 2 + n;
}

/** The UTF-8 length of a string field, checked to fit its two-byte length prefix. */
export function stringSize(value: string, what: string): number {
  if (typeof value !== 'string') throw malformed(`${what} is not a string`);
  const n = utf8Length(value);
  if (n > 0xffff) throw malformed(`${what} is longer than 65535 bytes`);
  return n;
}

export function binarySize(value: Uint8Array, what: string): number {
  if (!(value instanceof Uint8Array)) throw malformed(`${what} is not a Buffer`);
  if (value.length > 0xffff) throw malformed(`${what} is longer than 65535 bytes`);
  return value.length;
}

export function checkInteger(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw malformed(`${what} ${value} is out of range`);
  return value;
}

/** Allocates a packet with `remaining` bytes after the fixed header, and writes that header. */
export function allocatePacket(byte0: number, remaining: number): Buffer {
  if (remaining > MAX_REMAINING_LENGTH) {
    throw new MqttProtocolError(`a packet with ${remaining} bytes after its fixed header is too large`,
      ReasonCode.PacketTooLarge);
  }
  const buf = allocatePacketBuffer(1 + variableByteIntegerSize(remaining) + remaining);
  buf[0] = byte0;
  writeVariableByteInteger(buf, 1, remaining);
  return buf;
}

/** The offset of the variable header in a packet made by allocatePacket. */
export const bodyOffset = (remaining: number): number => 1 + variableByteIntegerSize(remaining);
