// A latency histogram in microseconds with bounded relative error (about 0.1 %): exact below
// 2,048 µs, then 1,024 sub-buckets per power of two, up to 2^31 µs. Workers fill one each and
// the main thread merges the counts, so percentiles are exact over all messages, not averaged.

const LINEAR = 2048;
const SUB_BITS = 10;
const SUB = 1 << SUB_BITS;
const MAX_VALUE = 0x7fffffff;
export const HISTOGRAM_SIZE = LINEAR + (31 - SUB_BITS - 1) * SUB;

function indexOf(us: number): number {
  let v = us < 0 ? 0 : us > MAX_VALUE ? MAX_VALUE : Math.floor(us);
  if (v < LINEAR) return v;
  const shift = 31 - Math.clz32(v) - SUB_BITS;
  v = v >>> shift;
  return LINEAR + (shift - 1) * SUB + (v - SUB);
}

/** The middle of bucket `index`, in µs. */
function valueOf(index: number): number {
  if (index < LINEAR) return index;
  const shift = Math.floor((index - LINEAR) / SUB) + 1;
  const mantissa = ((index - LINEAR) % SUB) + SUB;
  return mantissa * 2 ** shift + 2 ** (shift - 1);
}

export class Histogram {
  readonly counts: Uint32Array;
  count = 0;
  max = 0;

  constructor(counts?: Uint32Array) {
    this.counts = counts ?? new Uint32Array(HISTOGRAM_SIZE);
    if (counts) {
      for (let i = 0; i < counts.length; i++) {
        if (counts[i] === 0) continue;
        this.count += counts[i];
        this.max = valueOf(i);
      }
    }
  }

  record(us: number): void {
    this.counts[indexOf(us)]++;
    this.count++;
    if (us > this.max) this.max = us;
  }

  merge(other: Histogram): void {
    const a = this.counts;
    const b = other.counts;
    for (let i = 0; i < a.length; i++) a[i] += b[i];
    this.count += other.count;
    if (other.max > this.max) this.max = other.max;
  }

  /** The non-empty buckets as [index, count, index, count, ...]: a round's latencies in a few KB of JSON. */
  toSparse(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] !== 0) out.push(i, this.counts[i]);
    return out;
  }

  /** A histogram from toSparse()'s output; `max` (µs) is the largest value recorded, when known. */
  static fromSparse(pairs: readonly number[], max?: number): Histogram {
    const counts = new Uint32Array(HISTOGRAM_SIZE);
    for (let i = 0; i + 1 < pairs.length; i += 2) counts[pairs[i]] += pairs[i + 1];
    const h = new Histogram(counts);
    if (max !== undefined && Number.isFinite(max)) h.max = max;
    return h;
  }

  /** The value at quantile q (0..1), in µs; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(valueOf(i), this.max);
    }
    return this.max;
  }
}
