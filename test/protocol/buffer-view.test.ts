// Views and packet buffers made without subarray() or Buffer.allocUnsafe() (buffer-view.ts,
// packet-buffer.ts): they must be real Buffers over the right bytes, remember the ArrayBuffer
// only of the input they last saw, and never hand out overlapping memory. A view of lent input
// is made again only when the place viewed changes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferView, arrayBufferOf, byteOffsetOf, lentView, view } from '../../src/protocol/buffer-view.js';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import { allocatePacketBuffer } from '../../src/protocol/packet-buffer.js';

test('this Node offers its Buffer class as the species, so views skip subarray()', () => {
  assert.equal(typeof BufferView, 'function');
});

test('view() is a Buffer over the same bytes, at the input offset, for whichever input it is given', () => {
  const a = Buffer.from('0123456789');
  const b = Buffer.from(new ArrayBuffer(64), 16, 10);
  b.write('abcdefghij');
  const va = view(a, 2, 5);
  assert.ok(Buffer.isBuffer(va));
  assert.equal(va.toString(), '234');
  assert.equal(view(b, 2, 5).toString(), 'cde');
  assert.equal(view(a, 7, 10).toString(), '789');
  a.write('zz', 2);
  assert.equal(va.toString(), 'zz4', 'a view, not a copy');
  assert.equal(view(b, 4, 4).length, 0);
  assert.equal(arrayBufferOf(b), b.buffer);
  assert.equal(arrayBufferOf(a), a.buffer);
});

test('byteOffsetOf() is the offset of whichever input it is given, asked in turn', () => {
  const memory = new ArrayBuffer(64);
  const a = Buffer.from(memory, 8, 10);
  const b = Buffer.from(memory, 40, 10);
  const c = Buffer.from('plain');
  for (let i = 0; i < 3; i++) {
    assert.equal(byteOffsetOf(a), 8);
    assert.equal(byteOffsetOf(b), 40);
    assert.equal(byteOffsetOf(c), c.byteOffset);
    // Remembered together: the ArrayBuffer and offset of one input, never a mix of two.
    assert.equal(arrayBufferOf(a), memory);
    assert.equal(byteOffsetOf(a), 8);
  }
});

test('packet buffers are Buffers of the size asked for that never share a byte', () => {
  // Sizes on both sides of each limit (4 KiB: small slabs; 16 KiB: own slabs; above: Node's own)
  // and enough of them to fill several slabs of each kind.
  const sizes = [1, 7, 8, 9, 100, 4095, 4096, 4097, 8191, 8192, 16383, 16384, 16385, 40000];
  const made: Buffer[] = [];
  for (let round = 0; round < 40; round++) {
    for (const size of sizes) {
      const buf = allocatePacketBuffer(size);
      assert.ok(Buffer.isBuffer(buf));
      assert.equal(buf.length, size);
      assert.equal(buf.byteOffset % 8, 0, 'aligned as Node aligns its pool');
      buf.fill(made.length & 0xff);
      made.push(buf);
    }
  }
  made.forEach((buf, i) => assert.ok(buf.every((byte) => byte === (i & 0xff)), `packet ${i} (${buf.length} bytes) was overwritten by a later one`));
});

test('lentView() hands out its last view again for the same input and place, and a new one otherwise', () => {
  const shared = Buffer.alloc(32);
  const first = lentView(shared, 4, 8);
  assert.equal(lentView(shared, 4, 8), first);
  shared.write('abcd', 4);
  assert.equal(first.toString(), 'abcd', 'a view of the bytes there now');
  const other = lentView(shared, 4, 9);
  assert.notEqual(other, first);
  assert.equal(other.toString(), 'abcd\0');
  assert.notEqual(lentView(shared, 5, 9), other);
  assert.notEqual(lentView(Buffer.alloc(32), 5, 9), lentView(shared, 5, 9), 'another input');
});

test('lone QoS 0 PUBLISH read after read from one lent buffer: the payload view is made again only when its place changes', () => {
  const shared = Buffer.alloc(256);
  const decoder = new PacketDecoder({ protocolVersion: 4, lendPayloads: true });
  const read = (topic: string, text: string, lent = true): PublishPacket => {
    const bytes = encodePacket({ type: 3, topic, payload: Buffer.from(text), qos: 0, retain: false, dup: false }, 4);
    bytes.copy(shared);
    const out: PublishPacket[] = [];
    decoder.decode(lent ? shared : bytes, (p) => void out.push(p as PublishPacket), undefined, lent ? bytes.length : undefined);
    assert.equal(out.length, 1);
    return out[0];
  };
  const one = read('dev/1', 'first');
  assert.equal(one.payload.toString(), 'first');
  const two = read('dev/2', 'other');
  assert.equal(two.payload, one.payload, 'same place in the same buffer: the same view');
  assert.equal(two.payload.toString(), 'other');
  const longer = read('dev/10', 'other');
  assert.notEqual(longer.payload, two.payload, 'a longer topic moves the payload');
  assert.equal(longer.payload.toString(), 'other');
  // Input that is not lent belongs to whoever decodes it: each payload is a view of its own.
  const own1 = read('dev/3', 'third', false);
  const own2 = read('dev/4', 'forth', false);
  assert.notEqual(own1.payload, own2.payload);
  assert.deepEqual([own1.payload.toString(), own2.payload.toString()], ['third', 'forth']);
});
