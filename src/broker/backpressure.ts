// Backpressure from a subscriber that falls behind to the publishers feeding it. The broker
// takes messages far faster than one consumer can be sent them; without this, a fan-in to one
// subscriber fills its queue until the bound drops acknowledged QoS 1/2 messages. So when an
// online session's queue passes a high-water mark, the connections publishing into it stop
// being read until it drains below the low-water mark. A consumer that makes no progress for
// STALL_MS is a slow consumer, not a busy one: its publishers are released and it no longer
// holds anyone up (its own bounded queue then decides what it loses), so one client that
// stopped reading never stalls the others for more than that.

import type { Client } from './client.js';

export const STALL_MS = 1000;

export class Backpressure {
  private readonly paused = new Set<Client>();
  private timer: NodeJS.Timeout | undefined;
  private progressSinceCheck = false;
  private stalled = false;

  constructor(
    readonly highWater: number,
    readonly lowWater: number,
  ) {}

  /** Messages left the queue: the consumer is alive. */
  progress(queued: number): void {
    this.progressSinceCheck = true;
    this.stalled = false;
    if (queued <= this.lowWater) this.releaseAll();
  }

  /** A publisher's message was queued behind `queued` others for this consumer. */
  congested(publisher: Client, own: Client | undefined): void {
    if (this.stalled || publisher === own || this.paused.has(publisher)) return;
    this.paused.add(publisher);
    publisher.pauseReading();
    if (this.timer === undefined) {
      this.progressSinceCheck = false;
      this.timer = setInterval(this.check, STALL_MS);
      this.timer.unref();
    }
  }

  releaseAll(): void {
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (this.paused.size === 0) return;
    for (const publisher of this.paused) publisher.resumeReading();
    this.paused.clear();
  }

  private readonly check = (): void => {
    if (this.progressSinceCheck) {
      this.progressSinceCheck = false;
      return;
    }
    this.stalled = true;
    this.releaseAll();
  };
}
