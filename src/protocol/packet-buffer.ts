// Buffers for encoded packets, cut from slabs of our own: packets under 4 KiB from 8 KiB slabs,
// as Node's pool would (Buffer.allocUnsafe), but without its argument checks on every packet
// (buffer-view.ts); packets from 4 KiB to 16 KiB from 64 KiB slabs, where Node would give each
// an ArrayBuffer of its own, which costs more than copying a few KiB of payload into it. A slab
// lives as long as any packet cut from it is referenced: at worst 8 KiB for a small packet, 16
// times its size for a larger one, for as long as the broker holds the packet (usually until
// the socket has written it).

import { Buffer } from 'node:buffer';
import { BufferView } from './buffer-view.js';

const SMALL_LIMIT = 4 * 1024;
const SMALL_SLAB_SIZE = 8 * 1024;
const SLAB_SIZE = 64 * 1024;
const SLAB_LIMIT = 16 * 1024;

class Slab {
  private memory: ArrayBuffer | undefined;
  private offset = 0;

  constructor(private readonly size: number) {}

  cut(length: number, make: NonNullable<typeof BufferView>): Buffer {
    if (this.memory === undefined || this.offset + length > this.size) {
      // Not zero-filled: every byte of a packet is written before it is sent.
      this.memory = Buffer.allocUnsafeSlow(this.size).buffer as ArrayBuffer;
      this.offset = 0;
    }
    const buf = new make(this.memory, this.offset, length);
    // Keep each packet 8-byte aligned, as Node's pool does.
    this.offset = (this.offset + length + 7) & ~7;
    return buf;
  }
}

const small = new Slab(SMALL_SLAB_SIZE);
const large = new Slab(SLAB_SIZE);

/**
 * A Buffer for bytes that may be kept long (a payload copied out of a read): under 4 KiB from
 * the small slabs, which pin no more than Node's pool would; larger ones get memory of their own.
 */
export function allocateCopy(size: number): Buffer {
  return BufferView !== undefined && size < SMALL_LIMIT ? small.cut(size, BufferView) : Buffer.allocUnsafe(size);
}

export function allocatePacketBuffer(size: number): Buffer {
  if (BufferView === undefined || size > SLAB_LIMIT) return Buffer.allocUnsafe(size);
  return size < SMALL_LIMIT ? small.cut(size, BufferView) : large.cut(size, BufferView);
}
