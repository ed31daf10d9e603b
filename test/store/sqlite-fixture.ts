// Temporary SQLite stores for tests: each in its own directory, removed afterwards.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { StoreFixture } from './store-contract.js';

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'midge-store-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function sqliteFixture(): Promise<StoreFixture & { path: string }> {
  const { dir, remove } = tempDir();
  const path = join(dir, 'midge.db');
  let store = SqliteStore.open({ path });
  const fixture = {
    path,
    store,
    async reopen() {
      await store.close();
      fixture.store = store = SqliteStore.open({ path });
      return store;
    },
    async peek() {
      const reader = SqliteStore.open({ path });
      try {
        return await reader.load();
      } finally {
        await reader.close();
      }
    },
    async cleanup() {
      await store.close();
      remove();
    },
  };
  return fixture;
}
