// One clock for every thread: process.hrtime reads CLOCK_MONOTONIC, which all threads and
// processes of the machine share, so a send time written by one worker can be subtracted from
// a receive time taken by another. Times are µs since an epoch chosen by the main thread.

export class Clock {
  constructor(readonly epochNs: bigint) {}

  nowUs(): number {
    return Number(process.hrtime.bigint() - this.epochNs) / 1000;
  }
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
