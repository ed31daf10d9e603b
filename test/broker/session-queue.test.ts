// The session queue's accounting (src/broker/session-queue.ts): the queue bounds
// (--max-queued-messages, --max-queued-bytes) and the paging of persistent queues read these
// counts, so every way in and out must keep them: bytes in memory plus the backlog's, the
// total count, and the seq the backlog starts after.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionQueue } from '../../src/broker/session-queue.js';
import { Message } from '../../src/broker/message.js';
import { RetainedFeed } from '../../src/broker/retained-feed.js';
import type { Delivery } from '../../src/broker/session.js';

function delivery(seq: number, size: number): Delivery {
  return { seq, qos: 1, retain: false, subscriptionIdentifiers: undefined, message: new Message(`t/${seq}`, Buffer.alloc(size), 1, false, undefined, undefined, undefined) };
}

describe('session queue accounting', () => {
  test('push and shift keep the bytes; a retained feed counts no bytes', () => {
    const q = new SessionQueue();
    q.push(delivery(1, 10));
    q.push(new RetainedFeed([new Message('r', Buffer.alloc(50), 1, true, undefined, undefined, undefined)], 1, undefined));
    q.push(delivery(2, 5));
    assert.deepEqual([q.length, q.total, q.bytes, q.lastSeq], [3, 3, 15, 2]);
    assert.equal((q.shift() as Delivery).seq, 1);
    assert.ok(q.shift() instanceof RetainedFeed);
    assert.deepEqual([q.total, q.bytes], [1, 5]);
    assert.equal((q.shift() as Delivery).seq, 2);
    assert.equal(q.shift(), undefined);
    assert.deepEqual([q.total, q.bytes, q.lastSeq], [0, 0, 2]);
  });

  test('a delivery pushed back behind newer ones does not move lastSeq back', () => {
    const q = new SessionQueue();
    q.push(delivery(7, 1));
    q.push(delivery(3, 1));
    assert.equal(q.lastSeq, 7);
  });

  test('the backlog counts in total and bytes, and moves into memory without changing them', () => {
    const q = new SessionQueue();
    q.push(delivery(1, 4));
    q.addToBacklog(6);
    q.restoreBacklog({ count: 2, bytes: 20, lastSeq: 4, shared: 0 });
    assert.deepEqual([q.length, q.backlog, q.total, q.bytes], [1, 3, 4, 30]);
    q.pushFromBacklog(delivery(2, 6));
    assert.deepEqual([q.length, q.backlog, q.total, q.bytes, q.lastSeq], [2, 2, 4, 30, 2]);
    q.takeFromBacklog(8);
    assert.deepEqual([q.backlog, q.total, q.bytes], [1, 3, 22]);
  });

  test('a lost backlog leaves only what is in memory', () => {
    const q = new SessionQueue();
    q.push(delivery(1, 4));
    q.addToBacklog(6);
    q.addToBacklog(7);
    q.dropBacklog();
    assert.deepEqual([q.length, q.backlog, q.total, q.bytes], [1, 0, 1, 4]);
  });

  test('clear empties memory and backlog; the next backlog still starts after lastSeq', () => {
    const q = new SessionQueue();
    q.push(delivery(9, 4));
    q.addToBacklog(6);
    q.clear();
    assert.deepEqual([q.length, q.backlog, q.total, q.bytes, q.lastSeq], [0, 0, 0, 0, 9]);
  });
});
