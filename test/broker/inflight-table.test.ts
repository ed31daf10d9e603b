// InflightTable: a session's in-flight deliveries by packet id, in send order; one slot per
// packet id (id & mask), the broker's own ids picked where their slot is free.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InflightTable } from '../../src/broker/inflight-table.js';

describe('InflightTable', () => {
  test('starts empty, without a table, and acts as a Map over packet ids 1-65535', () => {
    const t = new InflightTable<string>();
    assert.equal(t.size, 0);
    assert.equal(t.capacity, 0);
    assert.deepEqual([...t.values()], []);
    assert.equal(t.has(0), false);
    t.set(7, 'a');
    t.set(65535, 'b');
    t.set(1, 'c');
    assert.equal(t.size, 3);
    assert.equal(t.get(65535), 'b');
    assert.equal(t.has(7), true);
    assert.equal(t.has(15), false, 'an id on a taken slot is not in flight');
    assert.deepEqual([...t.values()], ['a', 'b', 'c'], 'send order');
    t.set(7, 'a2');
    assert.deepEqual([...t.values()], ['a2', 'b', 'c'], 'a replaced entry keeps its place');
  });

  test('0 and ids past 65535 are not packet ids', () => {
    const t = new InflightTable<string>();
    assert.throws(() => t.set(0, 'x'), RangeError);
    assert.throws(() => t.set(65536, 'x'), RangeError);
    assert.throws(() => t.set(1.5, 'x'), RangeError);
    t.set(8, 'y');
    assert.equal(t.has(0), false);
    assert.equal(t.get(0), undefined);
    assert.equal(t.delete(0), false);
  });

  test('ids given from elsewhere that share a slot make the table grow, keeping send order', () => {
    const t = new InflightTable<number>();
    // 1, 9, 17, 32769 and 65 share slot 1 of an 8-slot table; 32769 and 1 share it up to 32,768 slots.
    for (const id of [1, 9, 17, 32769, 65]) t.set(id, id);
    assert.deepEqual([...t.values()], [1, 9, 17, 32769, 65]);
    assert.equal(t.capacity, 65536);
    for (const id of [1, 9, 17, 32769, 65]) assert.equal(t.get(id), id);
    assert.equal(t.delete(32769), true);
    assert.deepEqual([...t.values()], [1, 9, 17, 65]);
  });

  test('firstFree skips ids in flight and ids whose slot is taken, wrapping after 65535', () => {
    const t = new InflightTable<string>();
    assert.equal(t.firstFree(5), 5);
    t.set(5, 'a');
    t.set(14, 'b'); // slot 6 of 8
    assert.equal(t.firstFree(5), 7);
    assert.equal(t.firstFree(65535), 65535);
    t.set(65535, 'c'); // slot 7
    assert.equal(t.firstFree(65535), 1);
  });

  test('a window of one churning through every packet id keeps the smallest table', () => {
    const t = new InflightTable<number>();
    let next = 1;
    for (let i = 0; i < 200_000; i++) {
      const id = t.firstFree(next);
      next = (id % 65535) + 1;
      t.set(id, i);
      assert.equal(t.delete(id), true);
    }
    assert.equal(t.size, 0);
    assert.equal(t.capacity, 8);
  });

  test('deleting while iterating skips what was deleted, and clear ends the iteration', () => {
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
    const after: number[] = [];
    for (const v of t.values()) {
      after.push(v);
      t.clear();
    }
    assert.deepEqual(after, [1]);
  });

  test('clear forgets everything and the table', () => {
    const t = new InflightTable<number>();
    t.set(9, 9);
    t.clear();
    assert.equal(t.size, 0);
    assert.equal(t.capacity, 0);
    assert.equal(t.has(9), false);
    assert.deepEqual([...t.values()], []);
    t.set(9, 10);
    assert.deepEqual([...t.values()], [10]);
  });

  test('random sets, replacements and deletes agree with a Map, order included', () => {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const t = new InflightTable<number>();
    const model = new Map<number, number>();
    let next = 1;
    for (let step = 0; step < 50_000; step++) {
      const op = random(10);
      if (op < 4 && model.size < 3000) {
        // The broker's way: the first free id from where it left off.
        const id = t.firstFree(next);
        assert.equal(model.has(id), false);
        next = (id % 65535) + 1;
        t.set(id, step);
        model.set(id, step);
      } else if (op < 5 && model.size < 3000) {
        // Another way in (a restored session): any id, possibly in flight already.
        const id = 1 + random(65535);
        t.set(id, step);
        model.set(id, step);
      } else if (op < 9 && model.size > 0) {
        // Mostly the oldest (acknowledged in order), sometimes any.
        const keys = [...model.keys()];
        const id = random(3) === 0 ? keys[random(keys.length)] : keys[0];
        assert.equal(t.delete(id), model.delete(id));
      } else {
        const id = 1 + random(65535);
        assert.equal(t.get(id), model.get(id));
        assert.equal(t.has(id), model.has(id));
        assert.equal(t.delete(id), model.delete(id));
      }
      assert.equal(t.size, model.size);
      if (step % 1000 === 0) assert.deepEqual([...t.values()], [...model.values()]);
    }
    assert.deepEqual([...t.values()], [...model.values()]);
  });
});
