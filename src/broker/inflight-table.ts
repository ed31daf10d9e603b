// A session's in-flight deliveries by packet id, in the order they were sent.
//
// A Map that never empties once used: V8 gives a Map a new, smaller table when its last entry
// is deleted and a new one again when an entry is added, and a session at a low rate goes from
// one delivery in flight to none with every message (about 150 bytes of garbage each time). So
// the Map keeps one resident entry under packet id 0, which MQTT never gives a PUBLISH
// ([MQTT-2.3.1-1] (v3.1.1)), and this class hides it. A session that never sends QoS 1/2
// holds no Map at all.

/** The resident entry's key: not a packet id. */
const RESIDENT = 0;

export class InflightTable<T> {
  private map: Map<number, T | undefined> | undefined;

  get size(): number {
    return this.map === undefined ? 0 : this.map.size - 1;
  }

  get(packetId: number): T | undefined {
    return this.map?.get(packetId);
  }

  has(packetId: number): boolean {
    return packetId !== RESIDENT && this.map !== undefined && this.map.has(packetId);
  }

  set(packetId: number, value: T): void {
    if (packetId === RESIDENT) throw new RangeError('packet id 0 is not a packet id');
    (this.map ??= new Map<number, T | undefined>([[RESIDENT, undefined]])).set(packetId, value);
  }

  delete(packetId: number): boolean {
    return packetId !== RESIDENT && this.map !== undefined && this.map.delete(packetId);
  }

  /** The deliveries in send order; entries deleted while iterating are skipped, as with a Map. */
  values(): IterableIterator<T> {
    if (this.map === undefined) return ([] as T[]).values();
    const values = this.map.values();
    values.next(); // The resident entry, always the first: it is never deleted.
    return values as IterableIterator<T>;
  }

  /** Forgets every delivery and the Map with them. */
  clear(): void {
    this.map = undefined;
  }
}
