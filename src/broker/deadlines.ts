// Keep-alive and connect timeouts for every client from one periodic sweep of the broker, not a
// timer per connection. A Node timer costs ~190 bytes per idle connection (the Timeout, its
// boxed numbers, its argument array); here a client holds two small integers: its deadline
// and its keep-alive span, in ticks of a coarse monotonic clock.

/** Deadlines count in ticks of this many milliseconds: small integers for years of uptime. */
const TICK_MS = 100;
/** How often the broker looks for clients past their deadline. */
export const SWEEP_MS = 250;

/** Now, in ticks of the process's monotonic clock. */
export function nowTick(): number {
  return Math.floor(performance.now() / TICK_MS);
}

/**
 * The number of ticks to add to nowTick() for a deadline at least `ms` from now: one more than
 * ms / TICK_MS, because nowTick() rounds the present down. A deadline is never early; it is
 * noticed up to two ticks plus one sweep late.
 */
export function ticksFor(ms: number): number {
  return Math.ceil(ms / TICK_MS) + 1;
}
