// Buffers made straight from an ArrayBuffer and an offset. buf.subarray() looks up the species
// and reads `.buffer` through a call into V8's C++ runtime for every view it makes, and
// Buffer.allocUnsafe() validates its argument through two wrapped calls before it cuts from
// Node's pool: at a low rate, where every read holds one PUBLISH, each showed in the core's
// instructions and cache misses per message (bench/README.md, core-path --lines).

import { Buffer } from 'node:buffer';

type ViewConstructor = new (arrayBuffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

/**
 * The class of Node's Buffers (FastBuffer, which Buffer[Symbol.species] returns). Undefined if
 * a Node ever differs; then views come from subarray() and packets from Buffer.allocUnsafe().
 */
export const BufferView: ViewConstructor | undefined = (() => {
  const species = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
  return typeof species === 'function' && species.prototype === Buffer.prototype ? (species as ViewConstructor) : undefined;
})();

/**
 * The Buffer last asked about, its ArrayBuffer and its offset in it: reading `.buffer` is a call
 * into C++, and neither it nor `.byteOffset` is inlined by V8 where many kinds of Buffer pass
 * (each read was a call to the generic property lookup, `perf record` of the live broker), while
 * the input viewed is nearly always the transport's one read buffer. (A typed array's
 * ArrayBuffer and offset never change once read.)
 */
let viewed: Uint8Array | undefined;
let viewedArrayBuffer: ArrayBufferLike | undefined;
let viewedOffset = 0;

function remember(buf: Uint8Array): void {
  if (buf !== viewed) {
    viewed = buf;
    viewedArrayBuffer = buf.buffer;
    viewedOffset = buf.byteOffset;
  }
}

/** buf.buffer, remembered for the last Buffer asked about. */
export function arrayBufferOf(buf: Uint8Array): ArrayBufferLike {
  remember(buf);
  return viewedArrayBuffer!;
}

/** buf.byteOffset, remembered with arrayBufferOf. */
export function byteOffsetOf(buf: Uint8Array): number {
  remember(buf);
  return viewedOffset;
}

/** buf[start, stop) as a Buffer over the same memory. */
export function view(buf: Buffer, start: number, stop: number): Buffer {
  if (BufferView === undefined) return buf.subarray(start, stop);
  remember(buf);
  return new BufferView(viewedArrayBuffer!, viewedOffset + start, stop - start);
}

/**
 * The view lentView() made last, with the Buffer and the place it views. At a low rate nearly
 * every read holds one PUBLISH, and where topics have one length and payloads one size (devices of
 * one kind), its payload sits at the same place in the transport's one read buffer as the last
 * one's did, so the view made then serves again: a new one costs V8's typed-array constructor and
 * about nine cold cache lines per message (bench/core-path.mjs --lines).
 */
let lentSource: Uint8Array | undefined;
let lentStart = 0;
let lentStop = 0;
let lentLast: Buffer | undefined;

/**
 * buf[start, stop) as a Buffer over the same memory, for lent input only (a transport's read
 * buffer, which the next read overwrites): what it returns may be the same object as last time,
 * now showing the new bytes, so it must be let go of, or copied, before the next read, as
 * anything from lent input already must.
 */
export function lentView(buf: Buffer, start: number, stop: number): Buffer {
  if (buf === lentSource && start === lentStart && stop === lentStop) return lentLast!;
  const made = view(buf, start, stop);
  lentSource = buf;
  lentStart = start;
  lentStop = stop;
  lentLast = made;
  return made;
}
