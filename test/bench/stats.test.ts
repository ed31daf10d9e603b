import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Histogram } from '../../bench/harness/histogram.js';
import { bootstrapRatio, rotate, signTestP } from '../../bench/harness/stats.js';

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

test('rotate: each round starts one broker further on, so none always runs first', () => {
  const brokers = ['midge', 'mosquitto', 'aedes'];
  assert.deepEqual(rotate(brokers, 0), ['midge', 'mosquitto', 'aedes']);
  assert.deepEqual(rotate(brokers, 1), ['mosquitto', 'aedes', 'midge']);
  assert.deepEqual(rotate(brokers, 2), ['aedes', 'midge', 'mosquitto']);
  assert.deepEqual(rotate(brokers, 3), brokers);
  assert.deepEqual(rotate(brokers, 7), rotate(brokers, 1));
  // Over any n rounds in a row each broker holds each place once.
  for (let place = 0; place < brokers.length; place++) {
    assert.deepEqual(new Set([0, 1, 2].map((r) => rotate(brokers, r)[place])), new Set(brokers));
  }
  assert.deepEqual(rotate([], 4), []);
  assert.deepEqual(brokers, ['midge', 'mosquitto', 'aedes']);
});

test('bootstrap over rounds: the ratio of pooled statistics, an interval around it, and how often it is at most 1', () => {
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  // The same in every round: no spread, and at most 1 in every resample.
  const same = Array.from({ length: 10 }, (_, i): [number, number] => [100 + i, 100 + i]);
  assert.deepEqual(bootstrapRatio(same, mean), { ratio: 1, low: 1, high: 1, atMostOne: 1 });
  // Always 10% higher: the interval stays on 1.1 and no resample is at most 1.
  const higher = Array.from({ length: 10 }, (_, i): [number, number] => [110 + 11 * i, 100 + 10 * i]);
  const h = bootstrapRatio(higher, mean);
  assert.ok(Math.abs(h.ratio - 1.1) < 1e-12 && Math.abs(h.low - 1.1) < 1e-12 && Math.abs(h.high - 1.1) < 1e-12);
  assert.equal(h.atMostOne, 0);
  // Rounds that go either way: the interval holds the point estimate and straddles 1.
  const mixed = Array.from({ length: 16 }, (_, i): [number, number] => [i % 2 === 0 ? 90 : 112, 100]);
  const m = bootstrapRatio(mixed, mean);
  assert.ok(Math.abs(m.ratio - 1.01) < 1e-12);
  assert.ok(m.low < 1 && m.high > 1.01 && m.low <= m.ratio && m.ratio <= m.high, JSON.stringify(m));
  assert.ok(m.atMostOne > 0.2 && m.atMostOne < 0.8, JSON.stringify(m));
  // Seeded: a report rebuilt from the same JSON lines gives the same interval.
  assert.deepEqual(bootstrapRatio(mixed, mean), m);
  assert.notDeepEqual(bootstrapRatio(mixed, mean, 1000, 2), m);
  assert.ok(Number.isNaN(bootstrapRatio([], mean).ratio));
});

test('bootstrap over rounds of latency histograms: p99 over every message of the drawn rounds', () => {
  const round = (fast: number, slow: number, slowCount: number): number[] => {
    const h = new Histogram();
    for (let i = 0; i < 1000 - slowCount; i++) h.record(fast);
    for (let i = 0; i < slowCount; i++) h.record(slow);
    return h.toSparse();
  };
  const p99 = (rounds: number[][]): number => Histogram.fromSparse(rounds.flat()).quantile(0.99);
  // A: 2% of messages at 500 µs in every round, so its p99 is 500; B: 0.5%, so its p99 is 300.
  const pairs = Array.from({ length: 8 }, (): [number[], number[]] => [round(300, 500, 20), round(300, 500, 5)]);
  const r = bootstrapRatio(pairs, p99, 200);
  assert.ok(Math.abs(r.ratio - 500 / 300) < 0.01, JSON.stringify(r));
  assert.equal(r.atMostOne, 0);
});
