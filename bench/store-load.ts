// How long the SQLite store takes to hand back a large state at startup, and the memory it
// takes: 1,000,000 retained messages, 10,000 persistent sessions with subscriptions and queued
// messages. Run: node --import tsx bench/store-load.ts [retained] [sessions] [--keep]
//
// The database is built once per size in .tmp/ (kept with --keep so later runs time only load).

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { StoredMessage, StoredSession } from '../src/store/store.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const keep = process.argv.includes('--keep');
const retainedCount = Number(args[0] ?? 1_000_000);
const sessionCount = Number(args[1] ?? 10_000);
const queuedPerSession = 10;
const path = join('.tmp', `store-load-${retainedCount}-${sessionCount}.db`);

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function build(): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  const store = SqliteStore.open({ path });
  const started = performance.now();
  const payload = Buffer.alloc(64, 'x');
  for (let i = 0; i < retainedCount; i++) {
    const message: StoredMessage = {
      topic: `site/${i % 100}/building/${(i >> 7) % 50}/device/${i}/temperature`,
      payload,
      qos: (i % 3) as 0 | 1 | 2,
      retain: true,
    };
    if (i % 10 === 0) message.properties = { contentType: 'application/json', userProperties: [['unit', 'C']] };
    store.putRetained(message);
    if (i % 10_000 === 9_999) await store.flush();
  }
  await store.flush();
  const retainedMs = performance.now() - started;
  const shared: StoredMessage[] = [];
  for (let i = 0; i < 100; i++) shared.push({ topic: `alerts/${i}`, payload: Buffer.alloc(200, i), qos: 1, retain: false });
  for (let s = 0; s < sessionCount; s++) {
    const session: StoredSession = {
      clientId: `client-${s}`,
      expiryInterval: 3600,
      protocolVersion: 5,
      disconnectedAt: Date.now(),
      subscriptions: Array.from({ length: 5 }, (_, k) => ({
        topicFilter: `site/${(s + k) % 100}/#`,
        qos: 1 as const,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 0 as const,
        subscriptionIdentifier: k + 1,
      })),
    };
    store.putSession(session);
    for (let q = 0; q < queuedPerSession; q++) {
      store.putDelivery(session.clientId, { seq: q, message: shared[(s + q) % shared.length]!, qos: 1, retain: false });
    }
    if (s % 1000 === 999) await nextTurn();
  }
  await store.flush();
  await store.close();
  console.log(`built ${path}: ${retainedCount} retained in ${(retainedMs / 1000).toFixed(1)} s ` +
    `(${Math.round(retainedCount / (retainedMs / 1000))} rows/s), ${sessionCount} sessions, ` +
    `${sessionCount * queuedPerSession} deliveries; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (!existsSync(path) || !keep) await build();

const rssBefore = process.memoryUsage().rss;
const opened = performance.now();
const store = SqliteStore.open({ path });
const started = performance.now();
// As the broker loads it: queued deliveries stay in the store, counted per session.
const state = await store.load({ leaveQueued: true });
const loadMs = performance.now() - started;
const rssAfter = process.memoryUsage().rss;
let deliveries = 0;
for (const list of state.deliveries.values()) deliveries += list.length;
let queued = 0;
for (const backlog of state.backlog.values()) queued += backlog.count;
console.log(
  `open ${(started - opened).toFixed(0)} ms, load ${loadMs.toFixed(0)} ms: ${state.retained.length} retained, ` +
    `${state.sessions.length} sessions, ${deliveries} in-flight deliveries, ${queued} queued left in the store; RSS ${mb(rssBefore)} -> ${mb(rssAfter)} ` +
    `(heap used ${mb(process.memoryUsage().heapUsed)})`,
);
await store.close();
if (!keep) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
