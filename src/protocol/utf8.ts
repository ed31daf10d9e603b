// UTF-8 Encoded Strings (3.1.1 section 1.5.3, 5.0 section 1.5.4): well-formed UTF-8, no
// surrogates, no U+0000. A receiver that meets any of these closes the connection; in 5.0 the
// packet is a Malformed Packet. U+FEFF is kept as it is [MQTT-1.5.4-3].

import { Buffer, isUtf8 } from 'node:buffer';
import { malformed } from './errors.js';

/** Up to this many UTF-16 code units a string is measured and written in JavaScript. */
const SHORT_STRING = 32;

/** Buffer methods Node has on every Buffer but @types/node does not declare: no encoding switch. */
interface RawBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  latin1Write(value: string, offset: number, length: number): number;
  utf8Write(value: string, offset: number, length: number): number;
}

/**
 * Short ASCII strings decoded lately, by a hash of their bytes. A client publishes to the same
 * few topics over and over: finding the string made last time costs a fraction of making it
 * again (the native latin1Slice call, about 600 instructions for a short topic), and the string
 * comes with its hash already computed for the Map lookups that follow. A slot holds one string
 * and a collision only replaces it: at most DECODED_SLOTS short strings are kept.
 */
const DECODED_SLOTS = 1024;
const decoded: string[] = new Array<string>(DECODED_SLOTS).fill('');

/** Decodes buf[start, end) as an MQTT string; throws a malformed-packet error if it is not one. */
export function decodeUtf8(buf: Buffer, start: number, end: number): string {
  // Topics and client ids are nearly always ASCII: one scan finds both the zero byte and any
  // multi-byte sequence, and ASCII then needs no UTF-8 decoding at all. The same scan hashes the
  // bytes for the table of strings decoded lately.
  let hash = end - start;
  for (let i = start; i < end; i++) {
    const byte = buf[i];
    if (byte === 0) throw malformed('a string contains U+0000');
    if (byte >= 0x80) return decodeNonAscii(buf, start, end, i);
    hash = (Math.imul(hash, 31) + byte) | 0;
  }
  if (end - start > SHORT_STRING) return (buf as RawBuffer).latin1Slice(start, end);
  const slot = hash & (DECODED_SLOTS - 1);
  const known = decoded[slot];
  if (known.length === end - start && sameAscii(known, buf, start)) return known;
  const fresh = (buf as RawBuffer).latin1Slice(start, end);
  decoded[slot] = fresh;
  return fresh;
}

/** True when `s` has the code units buf[start, start + s.length) (ASCII, so one byte each). */
function sameAscii(s: string, buf: Buffer, start: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

function decodeNonAscii(buf: Buffer, start: number, end: number, from: number): string {
  // In well-formed UTF-8 a zero byte is always U+0000 (never part of a longer sequence).
  for (let i = from; i < end; i++) {
    if (buf[i] === 0) throw malformed('a string contains U+0000');
  }
  // isUtf8 rejects overlong forms, encoded surrogates and code points above U+10FFFF.
  if (!isUtf8(buf.subarray(start, end))) throw malformed('a string is not well-formed UTF-8');
  return (buf as RawBuffer).utf8Slice(start, end);
}

/**
 * The UTF-8 length of `value`, checking on the way that it is a legal MQTT string: no U+0000
 * and no lone surrogate (which Buffer would silently turn into U+FFFD).
 */
export function utf8Length(value: string): number {
  const n = value.length;
  if (n <= SHORT_STRING) {
    // Topics and client ids are short and nearly always ASCII: one pass here costs less than
    // the two native calls below. The first non-ASCII code unit sends it down that path.
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c === 0) throw malformed('a string contains U+0000');
      if (c >= 0x80) break;
    }
    if (i === n) return n;
  }
  // Longer strings: Buffer.byteLength and indexOf run natively, several times faster than a loop.
  const bytes = Buffer.byteLength(value, 'utf8');
  if (value.indexOf('\u0000') !== -1) throw malformed('a string contains U+0000');
  // Equal lengths mean pure ASCII; otherwise look for lone surrogates, the rare slow path.
  if (bytes !== value.length) checkSurrogates(value);
  return bytes;
}

function checkSurrogates(value: string): void {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = c <= 0xdbff && i + 1 < n ? value.charCodeAt(i + 1) : 0;
    if (next < 0xdc00 || next > 0xdfff) throw malformed('a string contains a lone surrogate');
    i++;
  }
}

/**
 * Writes `value` (whose UTF-8 length the caller has computed with utf8Length) at `offset` and
 * returns the offset after it.
 */
export function writeUtf8(buf: Buffer, offset: number, value: string, byteLength: number): number {
  if (byteLength === value.length) {
    // Pure ASCII: a short string is copied here (a native call costs more than the loop), a
    // longer one written as Latin-1, which skips UTF-8 encoding.
    if (byteLength <= SHORT_STRING) {
      for (let i = 0; i < byteLength; i++) buf[offset + i] = value.charCodeAt(i);
    } else {
      (buf as RawBuffer).latin1Write(value, offset, byteLength);
    }
  } else {
    (buf as RawBuffer).utf8Write(value, offset, byteLength);
  }
  return offset + byteLength;
}
