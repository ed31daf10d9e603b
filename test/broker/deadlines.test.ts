// The coarse clock of keep-alive and connect deadlines (src/broker/deadlines.ts): a deadline
// set at any moment is never reached before the time it stands for.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TICK_MS, tickAt, ticksFor } from '../../src/broker/deadlines.js';
import { seededRandom } from '../helpers/seeded-random.js';

describe('keep-alive deadlines in ticks', () => {
  test('[MQTT-3.1.2-24] (v3.1.1) a deadline of 1.5 x keep alive set at any moment is never due early', () => {
    const random = seededRandom(24);
    for (let i = 0; i < 100_000; i++) {
      const setAt = random() * 1e9;
      const keepAlive = 1 + Math.floor(random() * 65535);
      const ms = keepAlive * 1500;
      const deadline = tickAt(setAt) + ticksFor(ms);
      // The first moment the sweep can see the deadline as due: the start of its tick.
      const dueFrom = deadline * TICK_MS;
      assert.ok(dueFrom >= setAt + ms, `keep alive ${keepAlive} set at ${setAt}: due from ${dueFrom}`);
      // And at most two ticks late.
      assert.ok(dueFrom <= setAt + ms + 2 * TICK_MS, `keep alive ${keepAlive} set at ${setAt}: due only from ${dueFrom}`);
    }
  });

  test('deadlines stay 32-bit small integers (unboxed in V8 on 64-bit Node) for five years of uptime', () => {
    const fiveYears = 5 * 365 * 24 * 3600 * 1000;
    assert.ok(tickAt(fiveYears) + ticksFor(65535 * 1500) < 2 ** 31 - 1);
  });
});
