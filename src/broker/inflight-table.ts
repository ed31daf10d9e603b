// A session's in-flight deliveries by packet id, in the order they were sent.
//
// Not a Map: a session at a low rate goes from one delivery in flight to none with every
// message, and a Map's table fills with deleted entries that V8 clears out by rehashing in its
// runtime, every few messages (with the set and delete themselves, about 5% of the broker's
// instructions per QoS 1 message). Here a packet id has one slot, `id & mask`, in a table at
// most half full. The broker picks its packet ids (firstFree) among those whose slot is free,
// so its own ids never collide; an id given from elsewhere (a session restored from the store)
// that lands on a taken slot makes the table grow until it does not, which ends by 65,536 slots,
// one per id. Send order is a list linked through the slots. A session that never sends
// QoS 1/2 holds no table at all.

const NONE = -1;
const FIRST_CAPACITY = 8;
const MAX_ID = 0xffff;
/** One slot per packet id: no collisions, so no reason to grow further. */
const MAX_CAPACITY = MAX_ID + 1;

export class InflightTable<T> {
  /** Packet id by slot; 0 is a free slot (0 is never a packet id [MQTT-2.3.1-1] (v3.1.1)). */
  private ids: Int32Array | undefined;
  private vals: (T | undefined)[] = [];
  /** Send order: the slot before and after each slot, NONE at the ends. */
  private prev: Int32Array | undefined;
  private next: Int32Array | undefined;
  private head = NONE;
  private tail = NONE;
  private mask = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Slots in the table (0 before the first set): lets tests check that churn does not grow it. */
  get capacity(): number {
    return this.ids === undefined ? 0 : this.ids.length;
  }

  get(packetId: number): T | undefined {
    const ids = this.ids;
    if (ids === undefined) return undefined;
    const slot = packetId & this.mask;
    return ids[slot] === packetId && packetId !== 0 ? this.vals[slot] : undefined;
  }

  has(packetId: number): boolean {
    const ids = this.ids;
    return ids !== undefined && packetId !== 0 && ids[packetId & this.mask] === packetId;
  }

  /**
   * The first packet id from `from` on (1-65535, wrapping) that is neither in flight nor on a
   * taken slot: what set() then takes without a collision. The table is at most half full, so
   * this looks at a few ids.
   */
  firstFree(from: number): number {
    let id = from;
    const ids = this.ids;
    if (ids === undefined) return id;
    // A slot for the id about to be set: grow first if set() would (more than half full).
    if (this.full()) this.grow();
    const table = this.ids!;
    for (let tried = 0; table[id & this.mask] !== 0; tried++) {
      // Only with every packet id in flight, which Receive Maximum (at most 65,535) rules out.
      if (tried === MAX_ID) throw new RangeError('no packet id is free');
      id = (id % MAX_ID) + 1;
    }
    return id;
  }

  set(packetId: number, value: T): void {
    if (!Number.isInteger(packetId) || packetId < 1 || packetId > MAX_ID) throw new RangeError(`${packetId} is not a packet id`);
    if (this.ids === undefined) this.allocate(FIRST_CAPACITY);
    let slot = packetId & this.mask;
    if (this.ids![slot] === packetId) {
      this.vals[slot] = value; // replaced in place: it keeps its place in the send order
      return;
    }
    if (this.full()) this.grow();
    while (this.ids![(slot = packetId & this.mask)] !== 0) this.grow();
    this.ids![slot] = packetId;
    this.vals[slot] = value;
    this.prev![slot] = this.tail;
    this.next![slot] = NONE;
    if (this.tail === NONE) this.head = slot;
    else this.next![this.tail] = slot;
    this.tail = slot;
    this.count++;
  }

  delete(packetId: number): boolean {
    const ids = this.ids;
    if (ids === undefined || packetId === 0) return false;
    const slot = packetId & this.mask;
    if (ids[slot] !== packetId) return false;
    const before = this.prev![slot];
    const after = this.next![slot];
    if (before === NONE) this.head = after;
    else this.next![before] = after;
    if (after === NONE) this.tail = before;
    else this.prev![after] = before;
    ids[slot] = 0;
    this.vals[slot] = undefined;
    this.count--;
    return true;
  }

  /**
   * The deliveries in send order. Entries deleted while iterating are skipped (and clear() ends
   * the iteration), as with a Map; entries added meanwhile are not visited.
   */
  *values(): IterableIterator<T> {
    const order: number[] = [];
    const found: T[] = [];
    for (let slot = this.head; slot !== NONE; slot = this.next![slot]) {
      order.push(this.ids![slot]);
      found.push(this.vals[slot]!);
    }
    for (let i = 0; i < order.length; i++) {
      if (this.get(order[i]) === found[i]) yield found[i];
    }
  }

  /** Forgets every delivery and the table with them. */
  clear(): void {
    this.ids = undefined;
    this.prev = undefined;
    this.next = undefined;
    this.vals = [];
    this.head = this.tail = NONE;
    this.mask = 0;
    this.count = 0;
  }

  /** One more entry would fill more than half the table (and it can still grow). */
  private full(): boolean {
    const capacity = this.ids!.length;
    return (this.count + 1) * 2 > capacity && capacity < MAX_CAPACITY;
  }

  private allocate(capacity: number): void {
    this.ids = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.vals = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
  }

  /** Twice the slots, the entries moved over in send order. */
  private grow(): void {
    const oldIds = this.ids!;
    const oldVals = this.vals;
    const oldNext = this.next!;
    let slot = this.head;
    this.allocate(oldIds.length * 2);
    this.head = this.tail = NONE;
    this.count = 0;
    for (; slot !== NONE; slot = oldNext[slot]) this.set(oldIds[slot], oldVals[slot]!);
  }
}
