// Small statistics for comparing brokers round by round, where one round's tail is mostly chance.

// The tests' seeded generator: the bench is not shipped, and one copy of it is enough.
import { seededRandom } from '../../test/helpers/seeded-random.js';

/**
 * Two-sided exact sign test: the chance of a split at least as uneven as `k` of `n` rounds if
 * each round were a coin toss between the two brokers. Near 1: the rounds do not tell them
 * apart; under 0.05: one is ahead more often than chance explains.
 */
export function signTestP(k: number, n: number): number {
  if (!Number.isInteger(k) || !Number.isInteger(n) || n <= 0 || k < 0 || k > n) return NaN;
  const tail = Math.min(k, n - k);
  // Sum of C(n, i) / 2^n for i <= tail, term by term so nothing overflows for large n.
  let term = 2 ** -n;
  let sum = 0;
  for (let i = 0; i <= tail; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return Math.min(1, 2 * sum);
}

/** `items` started at index `by` (modulo their number) and wrapped around: each round's broker order. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const k = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export interface RatioInterval {
  /** statistic(first of every pair) over statistic(second of every pair). */
  ratio: number;
  /** The 2.5th and 97.5th percentiles of the ratio over the resamples. */
  low: number;
  high: number;
  /** Share of resamples (0..1) in which the ratio was at most 1. */
  atMostOne: number;
}

/**
 * How far a ratio between two brokers' pooled statistic (the p99 over every round's messages)
 * can be trusted: a bootstrap over rounds. Rounds are drawn with replacement, as pairs (both
 * brokers' runs of the same round, which shared the machine's weather), and the ratio computed
 * over each draw. A seeded generator keeps a report the same when rebuilt from its JSON lines.
 * Rounds, not messages, are what is drawn: a round's slow messages come in clusters (a host
 * hiccup, a collection), so messages are not independent, and a round-level draw keeps that.
 */
export function bootstrapRatio<T>(pairs: readonly (readonly [T, T])[], statistic: (items: T[]) => number, resamples = 1000, seed = 1): RatioInterval {
  const of = (draw: readonly (readonly [T, T])[]): number => statistic(draw.map((p) => p[0])) / statistic(draw.map((p) => p[1]));
  if (pairs.length === 0) return { ratio: NaN, low: NaN, high: NaN, atMostOne: NaN };
  const random = seededRandom(seed);
  const ratios: number[] = [];
  for (let i = 0; i < resamples; i++) ratios.push(of(pairs.map(() => pairs[Math.floor(random() * pairs.length)])));
  ratios.sort((a, b) => a - b);
  const at = (q: number): number => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))];
  return { ratio: of(pairs), low: at(0.025), high: at(0.975), atMostOne: ratios.filter((r) => r <= 1).length / ratios.length };
}
