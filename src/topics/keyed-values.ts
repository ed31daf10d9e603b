// The subscribers of one filter: key (client id) -> value, in parallel arrays so that the match
// loop walks them by index, without the iterator and entry-pair allocations of a Map. Most filters
// have one or a few subscribers, found by a short linear scan; a Map index is built only once a
// filter has many (a fan-out topic), so subscribe/unsubscribe stay O(1) there too.

const INDEX_THRESHOLD = 16;

export class KeyedValues<T> {
  readonly keys: string[];
  readonly values: T[];
  private index: Map<string, number> | undefined = undefined;

  /**
   * Created with its first entry: an array literal gets exactly one slot, where pushing onto an
   * empty array would reserve 17, and most filters only ever have one subscriber.
   * filter is the filter these entries belong to, handed to match callbacks as it is.
   */
  constructor(
    readonly filter: string,
    key: string,
    value: T,
  ) {
    this.keys = [key];
    this.values = [value];
  }

  get length(): number {
    return this.keys.length;
  }

  indexOf(key: string): number {
    if (this.index !== undefined) return this.index.get(key) ?? -1;
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return i;
    return -1;
  }

  /** Returns true when an entry for the key was replaced. */
  set(key: string, value: T): boolean {
    const at = this.indexOf(key);
    if (at !== -1) {
      this.values[at] = value;
      return true;
    }
    this.keys.push(key);
    this.values.push(value);
    if (this.index !== undefined) {
      this.index.set(key, this.keys.length - 1);
    } else if (this.keys.length > INDEX_THRESHOLD) {
      this.index = new Map();
      for (let i = 0; i < this.keys.length; i++) this.index.set(this.keys[i], i);
    }
    return false;
  }

  /** Removes by moving the last entry into the hole, so removal is O(1); order is not kept. */
  delete(key: string): boolean {
    const at = this.indexOf(key);
    if (at === -1) return false;
    const last = this.keys.length - 1;
    if (at !== last) {
      this.keys[at] = this.keys[last];
      this.values[at] = this.values[last];
      this.index?.set(this.keys[at], at);
    }
    this.keys.pop();
    this.values.pop();
    this.index?.delete(key);
    return true;
  }
}
