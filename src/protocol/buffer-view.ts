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
 * The Buffer last asked about and its ArrayBuffer: reading `.buffer` is a call into C++, and the
 * input viewed is nearly always the transport's one read buffer. (A typed array's ArrayBuffer
 * never changes once read.)
 */
let viewed: Uint8Array | undefined;
let viewedArrayBuffer: ArrayBufferLike | undefined;

/** buf.buffer, remembered for the last Buffer asked about. */
export function arrayBufferOf(buf: Uint8Array): ArrayBufferLike {
  if (buf !== viewed) {
    viewed = buf;
    viewedArrayBuffer = buf.buffer;
  }
  return viewedArrayBuffer!;
}

/** buf[start, stop) as a Buffer over the same memory. */
export function view(buf: Buffer, start: number, stop: number): Buffer {
  if (BufferView === undefined) return buf.subarray(start, stop);
  return new BufferView(arrayBufferOf(buf), buf.byteOffset + start, stop - start);
}
