// Chooses the store the command line asked for: memory, or the SQLite file in the data directory.

import { join } from 'node:path';
import type { Store } from './store.js';
import { MemoryStore } from './memory-store.js';
import type { Durability } from './sqlite-store.js';

export interface OpenStoreOptions {
  memory: boolean;
  dataDir: string;
  /** SQLite only; see SqliteStoreOptions. Defaults to 'os'. */
  durability?: Durability;
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.memory) return new MemoryStore();
  // Loaded only when used: the native SQLite module costs memory a --memory broker need not pay.
  const { SqliteStore } = await import('./sqlite-store.js');
  return SqliteStore.open({ path: join(options.dataDir, 'midge.db'), durability: options.durability });
}
