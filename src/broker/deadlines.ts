// Keep-alive and connect timeouts for every client from one periodic sweep of the broker, not a
// timer per connection. A Node timer costs ~190 bytes per idle connection (the Timeout, its
// boxed numbers, its argument array); here a client holds two small integers: its deadline
// and its keep-alive span, in ticks of a coarse monotonic clock.

import { performance } from 'node:perf_hooks';

/** Deadlines count in ticks of this many milliseconds: unboxed small integers for six years of
 * uptime (after that still right, only boxed). */
export const TICK_MS = 100;
/**
 * How often the broker looks for clients past their deadline. A pass costs 5-20 ns per client
 * (measured on 1,000,000), so even a million connections take at most 4% of a core; a deadline
 * is noticed at most this late (plus two ticks), small beside keep-alive periods of seconds.
 */
export const SWEEP_MS = 500;

/** Now, in ticks of the process's monotonic clock. */
export function nowTick(): number {
  return tickAt(performance.now());
}

/** The tick of a monotonic time in milliseconds. */
export function tickAt(ms: number): number {
  return Math.floor(ms / TICK_MS);
}

/**
 * The number of ticks to add to nowTick() for a deadline at least `ms` from now: one more than
 * ms / TICK_MS, because nowTick() rounds the present down. A deadline is never early; it is
 * noticed up to two ticks plus one sweep late.
 */
export function ticksFor(ms: number): number {
  return Math.ceil(ms / TICK_MS) + 1;
}
