// InflightTable: a session's in-flight deliveries, a Map that keeps a hidden resident entry so
// that going from one delivery to none does not make V8 reallocate its table.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InflightTable } from '../../src/broker/inflight-table.js';

describe('InflightTable', () => {
  test('starts empty, without a Map, and acts as one over packet ids 1-65535', () => {
    const t = new InflightTable<string>();
    assert.equal(t.size, 0);
    assert.deepEqual([...t.values()], []);
    assert.equal(t.has(0), false);
    t.set(7, 'a');
    t.set(65535, 'b');
    t.set(1, 'c');
    assert.equal(t.size, 3);
    assert.equal(t.get(65535), 'b');
    assert.equal(t.has(7), true);
    assert.deepEqual([...t.values()], ['a', 'b', 'c'], 'send order');
    t.set(7, 'a2');
    assert.deepEqual([...t.values()], ['a2', 'b', 'c'], 'a replaced entry keeps its place');
  });

  test('the resident entry never shows: not in size, values, has or get, and not deletable', () => {
    const t = new InflightTable<string>();
    t.set(3, 'x');
    assert.equal(t.delete(3), true);
    assert.equal(t.size, 0);
    assert.deepEqual([...t.values()], []);
    assert.equal(t.has(0), false);
    assert.equal(t.get(0), undefined);
    assert.equal(t.delete(0), false);
    assert.throws(() => t.set(0, 'y'), RangeError);
    t.set(4, 'z');
    assert.deepEqual([...t.values()], ['z']);
    assert.equal(t.size, 1);
  });

  test('deleting while iterating skips what was deleted, as a Map does', () => {
    const t = new InflightTable<number>();
    for (let id = 1; id <= 5; id++) t.set(id, id);
    const seen: number[] = [];
    for (const v of t.values()) {
      seen.push(v);
      if (v === 2) {
        t.delete(2);
        t.delete(4);
      }
    }
    assert.deepEqual(seen, [1, 2, 3, 5]);
    assert.equal(t.size, 3);
  });

  test('clear forgets everything', () => {
    const t = new InflightTable<number>();
    t.set(9, 9);
    t.clear();
    assert.equal(t.size, 0);
    assert.equal(t.has(9), false);
    assert.deepEqual([...t.values()], []);
    t.set(9, 10);
    assert.deepEqual([...t.values()], [10]);
  });
});
