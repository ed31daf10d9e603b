// Waiting on events with a deadline: tests never sleep for a fixed time.

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Emitter {
  once(event: string, listener: (...args: never[]) => void): unknown;
}

export function waitForEvent<T extends unknown[]>(emitter: Emitter, event: string, ms = 5000): Promise<T> {
  return withTimeout(
    new Promise<T>((resolve) => emitter.once(event, (...args: never[]) => resolve(args as unknown as T))),
    ms,
    `event '${event}'`,
  );
}

/** Polls a condition (for state that has no event), with a deadline. */
export async function until(condition: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
