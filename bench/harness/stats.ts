// Small statistics for comparing brokers round by round, where one round's tail is mostly chance.

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
