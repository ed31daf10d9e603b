// The queue of one session, with its accounting: the deliveries in memory (a Deque, oldest
// first), and, with a store that pages queues, the newer ones past the window that are only in
// the store (the backlog). Every way in or out keeps the counts the bounds and the paging rely
// on, so the session cannot update one and forget another:
//   bytes   = payload bytes in memory + backlogBytes,
//   lastSeq = the seq of the newest delivery that entered memory (the backlog starts after it).
// It is the session's one Deque, so the counts cost no object of their own per session.

import { Deque } from './deque.js';
import { RetainedFeed } from './retained-feed.js';
import type { Delivery } from './session.js';
import type { StoredBacklog } from '../store/store.js';

export class SessionQueue extends Deque<Delivery | RetainedFeed> {
  /** Queued deliveries after those in memory, kept only in the store. */
  backlog = 0;
  private backlogBytes = 0;
  /** Payload bytes of every queued delivery, in memory or in the backlog (a RetainedFeed counts none). */
  bytes = 0;
  /** The seq of the newest delivery that entered memory. */
  lastSeq = 0;

  /** Deliveries queued in memory and in the backlog. */
  get total(): number {
    return this.length + this.backlog;
  }

  override push(item: Delivery | RetainedFeed): void {
    super.push(item);
    if (item instanceof RetainedFeed) return;
    this.bytes += item.message.payload.length;
    if (item.seq > this.lastSeq) this.lastSeq = item.seq;
  }

  override shift(): Delivery | RetainedFeed | undefined {
    const item = super.shift();
    if (item !== undefined && !(item instanceof RetainedFeed)) this.bytes -= item.message.payload.length;
    return item;
  }

  /** A delivery of `size` payload bytes joins the backlog (it was written to the store only). */
  addToBacklog(size: number): void {
    this.backlog++;
    this.backlogBytes += size;
    this.bytes += size;
  }

  /** The backlog a previous run left in the store. */
  restoreBacklog(backlog: StoredBacklog): void {
    this.backlog += backlog.count;
    this.backlogBytes += backlog.bytes;
    this.bytes += backlog.bytes;
  }

  /** A delivery read back from the backlog moves into memory. */
  pushFromBacklog(delivery: Delivery): void {
    this.takeFromBacklog(delivery.message.payload.length);
    this.push(delivery);
  }

  /** A delivery of `size` payload bytes leaves the backlog (read back, or handed on from the store). */
  takeFromBacklog(size: number): void {
    this.backlog--;
    this.backlogBytes -= size;
    this.bytes -= size;
  }

  /** The store has lost the backlog (it failed): the counts must not promise messages that will never come. */
  dropBacklog(): void {
    this.bytes -= this.backlogBytes;
    this.backlog = 0;
    this.backlogBytes = 0;
  }

  /** Empties the queue; `lastSeq` stays, so a backlog written later still starts after it. */
  override clear(): void {
    super.clear();
    this.backlog = 0;
    this.backlogBytes = 0;
    this.bytes = 0;
  }
}
