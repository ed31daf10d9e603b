// Buffers for encoded packets. Node pools Buffers under 4 KiB in shared 8 KiB slabs; above that
// each Buffer gets its own ArrayBuffer, which costs more than copying a few KiB of payload into
// it. So packets from 4 KiB to 16 KiB are cut from 64 KiB slabs of our own. A slab lives as
// long as any packet cut from it is referenced: at worst 16 times that packet's size, for as
// long as the broker holds the packet (usually until the socket has written it).

import { Buffer } from 'node:buffer';

const SLAB_SIZE = 64 * 1024;
const SLAB_LIMIT = 16 * 1024;

let slab: Buffer | null = null;
let slabOffset = 0;

export function allocatePacketBuffer(size: number): Buffer {
  if (size < Buffer.poolSize >>> 1 || size > SLAB_LIMIT) return Buffer.allocUnsafe(size);
  if (slab === null || slabOffset + size > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabOffset = 0;
  }
  const buf = slab.subarray(slabOffset, slabOffset + size);
  // Keep each packet 8-byte aligned, as Node's pool does.
  slabOffset = (slabOffset + size + 7) & ~7;
  return buf;
}
