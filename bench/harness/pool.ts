// The load generator's worker threads, with one outstanding request each and a deadline on
// every reply. A worker that misses a deadline or fails is replaced, so the next run starts clean.

import { Worker } from 'node:worker_threads';
import type { WorkerReply, WorkerRequest } from './messages.js';

const entry = new URL('./worker-entry.mjs', import.meta.url);

class WorkerHandle {
  private worker!: Worker;
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;

  constructor(readonly index: number) {
    this.spawn();
  }

  private spawn(): void {
    // The loader is registered by worker-entry.mjs; inheriting --import tsx would not work.
    this.worker = new Worker(entry, { execArgv: [] });
    this.worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending;
      if (pending === undefined) return;
      this.pending = undefined;
      clearTimeout(pending.timer);
      if (reply.op === 'error') pending.reject(new Error(`worker ${this.index}: ${reply.message}`));
      else pending.resolve(reply);
    });
    this.worker.on('error', (err) => this.fail(new Error(`worker ${this.index} crashed: ${err.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`worker ${this.index} exited with code ${code}`)));
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  call(request: WorkerRequest, timeoutMs: number): Promise<WorkerReply> {
    if (this.pending !== undefined) return Promise.reject(new Error(`worker ${this.index} is busy`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`worker ${this.index}: no reply to '${request.op}' within ${Math.round(timeoutMs / 1000)} s`));
        void this.replace();
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.worker.postMessage(request);
    });
  }

  /** Terminates this worker (closing its sockets) and starts a fresh one. */
  async replace(): Promise<void> {
    const old = this.worker;
    old.removeAllListeners('exit');
    this.fail(new Error(`worker ${this.index} replaced`));
    await old.terminate();
    this.spawn();
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

export class WorkerPool {
  readonly workers: WorkerHandle[];

  constructor(size: number) {
    this.workers = Array.from({ length: size }, (_, i) => new WorkerHandle(i));
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends requests[i] to worker i and waits for all replies. */
  all(requests: WorkerRequest[], timeoutMs: number): Promise<WorkerReply[]> {
    return Promise.all(requests.map((r, i) => this.workers[i].call(r, timeoutMs)));
  }

  /** Closes every client of every worker; replaces a worker that does not manage it in time. */
  async teardown(timeoutMs = 15_000): Promise<void> {
    await Promise.all(this.workers.map(async (w) => {
      try {
        await w.call({ op: 'teardown' }, timeoutMs);
      } catch {
        await w.replace();
      }
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
