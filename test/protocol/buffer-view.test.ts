// Views and packet buffers made without subarray() or Buffer.allocUnsafe() (buffer-view.ts,
// packet-buffer.ts): they must be real Buffers over the right bytes, remember the ArrayBuffer
// only of the input they last saw, and never hand out overlapping memory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferView, arrayBufferOf, byteOffsetOf, view } from '../../src/protocol/buffer-view.js';
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
