import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Histogram } from '../../bench/harness/histogram.js';
import { signTestP } from '../../bench/harness/stats.js';

test('sign test: exact two-sided binomial tail at one half', () => {
  assert.equal(signTestP(6, 12), 1);
  // P(X <= 2) for n = 12: (1 + 12 + 66) / 4096, doubled.
  assert.ok(Math.abs(signTestP(2, 12) - (2 * 79) / 4096) < 1e-12);
  assert.equal(signTestP(10, 12), signTestP(2, 12));
  assert.ok(Math.abs(signTestP(0, 5) - 2 / 32) < 1e-12);
  // Large n does not overflow or underflow to nonsense.
  const p = signTestP(500, 1000);
  assert.ok(p > 0.9 && p <= 1);
  assert.ok(Number.isNaN(signTestP(3, 2)));
  assert.ok(Number.isNaN(signTestP(0, 0)));
});

test('histogram: sparse form round-trips, and merged rounds give percentiles over every message', () => {
  const a = new Histogram();
  const b = new Histogram();
  for (let i = 0; i < 990; i++) a.record(300);
  for (let i = 0; i < 10; i++) a.record(5000);
  for (let i = 0; i < 1000; i++) b.record(400);
  const back = Histogram.fromSparse(a.toSparse(), a.max);
  assert.equal(back.count, 1000);
  assert.equal(back.quantile(0.99), a.quantile(0.99));
  assert.equal(back.max, 5000);
  // Together: 2,000 messages, the 10 slow ones are the top 0.5%, so p99 is a fast one.
  const pooled = Histogram.fromSparse([...a.toSparse(), ...b.toSparse()]);
  assert.equal(pooled.count, 2000);
  assert.equal(pooled.quantile(0.99), 400);
  assert.ok(pooled.quantile(0.999) >= 4990);
});
