// copyOut: the bytes a lent read keeps, in a Buffer of its own. It remembers the ArrayBuffer of
// the input it last viewed; inputs that change must still give their own bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyOut } from '../../src/protocol/byte-reader.js';

test('copyOut copies from whichever input it is given, at its offset, and the copy stays', () => {
  const a = Buffer.from('0123456789');
  const backing = new ArrayBuffer(64);
  const b = Buffer.from(backing, 16, 10);
  b.write('abcdefghij');
  const fromA = copyOut(a, 2, 5);
  assert.equal(copyOut(b, 2, 5).toString(), 'cde');
  assert.equal(copyOut(a, 2, 5).toString(), '234');
  a.write('zzzzzzzzzz');
  assert.equal(fromA.toString(), '234', 'a copy, not a view');
  assert.equal(copyOut(a, 0, 3).toString(), 'zzz');
  assert.equal(copyOut(b, 9, 10).toString(), 'j');
  assert.equal(copyOut(b, 3, 3).length, 0);
});
