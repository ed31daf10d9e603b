// What one subscriber saw from one publisher: every sequence number once, in order, is the
// contract at QoS >= 1. A growing bitmap tells a duplicate from a late (reordered) message.

export class StreamTracker {
  private seen = new Uint8Array(1024);
  /** Highest sequence number seen so far, -1 before the first. */
  maxSeq = -1;
  unique = 0;
  duplicates = 0;
  /** Messages that arrived after a message with a higher sequence number (duplicates excluded). */
  reordered = 0;
  /** Where `unique` is published for the publisher to pace itself (-1: nowhere). */
  paceSlot = -1;

  /** Records `seq`; returns false if it is a duplicate. */
  record(seq: number): boolean {
    const byte = seq >>> 3;
    if (byte >= this.seen.length) this.grow(byte);
    const bit = 1 << (seq & 7);
    if ((this.seen[byte] & bit) !== 0) {
      this.duplicates++;
      return false;
    }
    this.seen[byte] |= bit;
    this.unique++;
    if (seq < this.maxSeq) this.reordered++;
    else this.maxSeq = seq;
    return true;
  }

  /** How many of the sequence numbers below `sent` were seen (numbers at or above it are bogus). */
  uniqueBelow(sent: number): number {
    if (this.maxSeq < sent) return this.unique;
    let n = 0;
    for (let seq = 0; seq < sent; seq++) if ((this.seen[seq >>> 3] & (1 << (seq & 7))) !== 0) n++;
    return n;
  }

  private grow(byte: number): void {
    let size = this.seen.length * 2;
    while (size <= byte) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.seen);
    this.seen = next;
  }
}
