import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite-schema.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { openStore } from '../../src/store/open-store.js';
import type { StoredMessage } from '../../src/store/store.js';
import { delivery, message, normalize, session, storeContract, will } from './store-contract.js';
import { sqliteFixture, tempDir } from './sqlite-fixture.js';

storeContract('SqliteStore', sqliteFixture);

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SqliteStore', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function fixture() {
    const f = await sqliteFixture();
    cleanups.push(() => f.cleanup());
    return f;
  }
  function dir(): string {
    const d = tempDir();
    cleanups.push(d.remove);
    return d.dir;
  }
  /** A read-only look at the file, the way an operator would with the sqlite3 tool. */
  function inspect<T>(path: string, query: string): T[] {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare(query).all() as T[];
    } finally {
      db.close();
    }
  }

  describe('batching', () => {
    test('writes wait for the end of the turn and commit together; flush() gives that batch promise', async () => {
      const f = await fixture();
      f.store.putRetained(message('a'));
      f.store.putSession(session('s'));
      const pending = f.store.flush();
      assert.ok(pending instanceof Promise);
      // Nothing is in the file until the turn ends.
      assert.deepEqual(normalize(await f.peek()).retained, []);
      let settled = false;
      void pending.then(() => (settled = true));
      await pending;
      assert.ok(settled);
      const state = normalize(await f.peek());
      assert.deepEqual(state.retained, [message('a')]);
      assert.deepEqual(state.sessions, [session('s')]);
      assert.equal(f.store.flush(), undefined);
    });

    test('all the writes of a turn are one commit', async () => {
      const f = await fixture();
      const internals = f.store as unknown as { commitTransaction: (batch: unknown) => void };
      const commit = internals.commitTransaction;
      let commits = 0;
      internals.commitTransaction = (batch) => {
        commits++;
        commit(batch);
      };
      for (let i = 0; i < 1000; i++) {
        f.store.putRetained(message(`t/${i}`));
        f.store.putDelivery('c', delivery(i, message(`q/${i}`)));
      }
      f.store.putIncomingQos2('c', 1);
      f.store.putSession(session('c'));
      await f.store.flush();
      assert.equal(commits, 1);
      assert.deepEqual(inspect<{ n: number }>(f.path, 'SELECT count(*) AS n FROM retained'), [{ n: 1000 }]);
      f.store.putRetained(message('next turn'));
      await f.store.flush();
      assert.equal(commits, 2);
    });

    test('the latest retained message per topic is the one written', async () => {
      const f = await fixture();
      for (let i = 0; i < 100; i++) f.store.putRetained(message('same', { payload: Buffer.from(String(i)) }));
      await f.store.flush();
      assert.deepEqual(inspect<{ payload: Buffer }>(f.path, 'SELECT payload FROM retained'), [{ payload: Buffer.from('99') }]);
    });
  });

  describe('messages referenced by deliveries', () => {
    test('a message queued for many sessions is stored once and removed with its last delivery', async () => {
      const f = await fixture();
      const shared = message('fan', { payload: Buffer.alloc(1000, 1) });
      for (let c = 0; c < 100; c++) f.store.putDelivery(`c${c}`, delivery(1, shared));
      f.store.putDelivery('c0', delivery(2, message('own')));
      await f.store.flush();
      type Row = { topic: string; refs: number };
      const messages = () => inspect<Row>(f.path, 'SELECT topic, refs FROM messages ORDER BY topic');
      assert.deepEqual(messages(), [{ topic: 'fan', refs: 100 }, { topic: 'own', refs: 1 }]);

      for (let c = 0; c < 50; c++) f.store.deleteDelivery(`c${c}`, 1);
      f.store.deleteSession('c50');
      // Released (PUBREC): the same delivery put again does not count twice.
      f.store.putDelivery('c99', delivery(1, shared, { packetId: 3, released: true }));
      await f.store.flush();
      assert.deepEqual(messages(), [{ topic: 'fan', refs: 49 }, { topic: 'own', refs: 1 }]);

      for (let c = 51; c < 100; c++) f.store.deleteSession(`c${c}`);
      f.store.deleteDelivery('c0', 2);
      await f.store.flush();
      assert.deepEqual(messages(), []);
      // Queued again after it was gone from the file: written again.
      f.store.putDelivery('c1', delivery(5, shared));
      await f.store.flush();
      assert.deepEqual(messages(), [{ topic: 'fan', refs: 1 }]);
      const state = normalize(await f.reopen().then((s) => s.load()));
      assert.deepEqual(state.deliveries, [['c1', [delivery(5, shared)]]]);
    });

    test('after a restart, deliveries of one stored message share one message object', async () => {
      const f = await fixture();
      const shared = message('fan');
      for (let c = 0; c < 3; c++) f.store.putDelivery(`c${c}`, delivery(1, shared));
      const store = await f.reopen();
      const state = await store.load();
      const loaded = [...state.deliveries.values()].map((list) => list[0]!.message);
      assert.equal(loaded.length, 3);
      assert.ok(loaded.every((m) => m === loaded[0]));
      // Putting a loaded delivery back references the same row.
      store.putDelivery('c0', { ...state.deliveries.get('c0')![0]!, packetId: 1 });
      await store.flush();
      assert.deepEqual(inspect<{ n: number }>(f.path, 'SELECT count(*) AS n FROM messages'), [{ n: 1 }]);
    });

    test('[MQTT-2.3.1-1] (v3.1.1) a stored in-flight packet id outside 1-65535 refuses the load, naming the file, the client and the id', async () => {
      for (const bad of [0, 65536]) {
        for (const leaveQueued of [false, true]) {
          const f = await fixture();
          f.store.putDelivery('damaged', delivery(1, message('t'), { packetId: 7 }));
          await f.store.close();
          const fix = new Database(f.path);
          fix.prepare('UPDATE deliveries SET packet_id = ?').run(bad);
          fix.close();
          const store = SqliteStore.open({ path: f.path });
          cleanups.push(() => store.close().catch(() => {}));
          await assert.rejects(store.load({ leaveQueued }), (error: Error) => {
            assert.ok(error.message.includes(f.path), error.message);
            assert.match(error.message, new RegExp(`client damaged has packet id ${bad}, not one from 1 to 65535`));
            return true;
          });
        }
      }
    });
  });

  describe('opening', () => {
    test('creates the directory and migrates an empty file from version 0', async () => {
      const path = join(dir(), 'nested', 'deeper', 'midge.db');
      const store = SqliteStore.open({ path });
      cleanups.push(() => store.close());
      assert.ok(existsSync(path));
      store.putRetained(message('a'));
      await store.flush();
      const [{ user_version }] = inspect<{ user_version: number }>(path, 'PRAGMA user_version');
      assert.equal(user_version, SCHEMA_VERSION);

      const emptyFile = join(dir(), 'empty.db');
      writeFileSync(emptyFile, '');
      const migrated = SqliteStore.open({ path: emptyFile });
      cleanups.push(() => migrated.close());
      assert.deepEqual(normalize(await migrated.load()).retained, []);
      assert.equal(inspect<{ user_version: number }>(emptyFile, 'PRAGMA user_version')[0]!.user_version, SCHEMA_VERSION);
      const tables = inspect<{ name: string }>(emptyFile, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
      assert.deepEqual(tables.map((t) => t.name), ['deliveries', 'incoming_qos2', 'messages', 'retained', 'sessions', 'wills']);
    });

    test('a version 1 file (Midge before wills and share groups) migrates to the current version with its data intact', async () => {
      // Written by the schema-1 SqliteStore (commit 2371062); never regenerate it with newer code.
      const fixturePath = fileURLToPath(new URL('./fixtures/midge-v1.db', import.meta.url));
      const path = join(dir(), 'midge.db');
      copyFileSync(fixturePath, path);
      assert.equal(inspect<{ user_version: number }>(path, 'PRAGMA user_version')[0]!.user_version, 1);

      const store = SqliteStore.open({ path });
      const queued = message('v1/queued', { payload: Buffer.from('queued'), qos: 2 });
      const expected = {
        retained: [
          message('v1/expiring', { payload: Buffer.from([0, 1, 2, 255]), qos: 2, retain: true, expiresAt: 1_900_000_000_000 }),
          message('v1/retained', {
            payload: Buffer.from('kept across the migration'),
            retain: true,
            properties: { contentType: 'text/plain', userProperties: [['k', 'v']] },
          }),
        ],
        sessions: [
          session('v1-client', {
            disconnectedAt: 1_700_000_000_000,
            subscriptions: [
              { topicFilter: 'v1/#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0, subscriptionIdentifier: 3 },
            ],
          }),
        ],
        deliveries: [
          ['v1-client', [
            delivery(1, queued, { qos: 2, packetId: 7, released: true }),
            delivery(2, queued, { qos: 1, subscriptionIdentifiers: [3] }),
          ]],
        ],
        incomingQos2: [['v1-client', [42]]],
        wills: [],
      };
      assert.deepEqual(normalize(await store.load()), expected);
      assert.equal(inspect<{ user_version: number }>(path, 'PRAGMA user_version')[0]!.user_version, SCHEMA_VERSION);
      assert.equal(SCHEMA_VERSION, 3);

      // The new table takes wills, the new column share groups, and the migrated file opens
      // again without migrating twice.
      store.putWill(will('v1-client'));
      store.putDelivery('v1-client', delivery(3, queued, { qos: 1, shareGroup: '$share/g/v1/#' }));
      await store.close();
      const again = SqliteStore.open({ path });
      cleanups.push(() => again.close());
      const deliveries = [['v1-client', [...expected.deliveries[0]![1]!, delivery(3, queued, { qos: 1, shareGroup: '$share/g/v1/#' })]]];
      assert.deepEqual(normalize(await again.load()), { ...expected, deliveries, wills: [will('v1-client')] });
    });

    test('a failed migration leaves the file at its old version, and a later open completes it', async () => {
      const path = join(dir(), 'midge.db');
      copyFileSync(fileURLToPath(new URL('./fixtures/midge-v1.db', import.meta.url)), path);
      // A table in the way makes step 2 fail half-way through its transaction.
      const db = new Database(path);
      db.exec('CREATE TABLE wills (x)');
      db.close();
      assert.throws(() => SqliteStore.open({ path }), (error: Error) => {
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, /wills already exists/);
        return true;
      });
      assert.equal(inspect<{ user_version: number }>(path, 'PRAGMA user_version')[0]!.user_version, 1);
      const fix = new Database(path);
      fix.exec('DROP TABLE wills');
      fix.close();
      const store = SqliteStore.open({ path });
      cleanups.push(() => store.close());
      const state = await store.load();
      assert.equal(state.retained.length, 2);
      assert.deepEqual(state.wills, []);
      assert.equal(inspect<{ user_version: number }>(path, 'PRAGMA user_version')[0]!.user_version, SCHEMA_VERSION);
    });

    test('a file of garbage bytes is refused with its path and the cause, and left as it was', () => {
      const path = join(dir(), 'midge.db');
      const garbage = Buffer.from('this is not a database, only garbage bytes. '.repeat(200));
      writeFileSync(path, garbage);
      assert.throws(() => SqliteStore.open({ path }), (error: Error) => {
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, /not a database/);
        return true;
      });
      assert.ok(readFileSync(path).equals(garbage));
    });

    test('a file with a truncated header is refused with its path and the cause', async () => {
      const source = join(dir(), 'whole.db');
      const whole = SqliteStore.open({ path: source });
      whole.putRetained(message('a'));
      await whole.close();
      const path = join(dir(), 'midge.db');
      const truncated = readFileSync(source).subarray(0, 60);
      writeFileSync(path, truncated);
      assert.throws(() => SqliteStore.open({ path }), (error: Error) => {
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, /malformed|not a database|corrupt/i);
        return true;
      });
      assert.ok(readFileSync(path).equals(truncated));
    });

    test('a schema version newer than the code knows is refused, naming both versions', async () => {
      const path = join(dir(), 'midge.db');
      await SqliteStore.open({ path }).close();
      const db = new Database(path);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      assert.throws(() => SqliteStore.open({ path }), (error: Error) => {
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, new RegExp(`version ${SCHEMA_VERSION + 1} is newer.*\\(${SCHEMA_VERSION}\\)`));
        return true;
      });
    });

    test("another program's SQLite database is refused, not written to", () => {
      const path = join(dir(), 'other.db');
      const db = new Database(path);
      db.exec('CREATE TABLE things (x)');
      db.close();
      const before = readFileSync(path);
      assert.throws(() => SqliteStore.open({ path }), /not a Midge database/);
      // Not a byte changed: not even switched to WAL mode.
      assert.ok(readFileSync(path).equals(before));
      assert.ok(!existsSync(`${path}-wal`));
      assert.deepEqual(inspect<{ name: string }>(path, 'SELECT name FROM sqlite_schema').map((t) => t.name), ['things']);
    });

    test("durability: 'os' syncs at checkpoints (NORMAL), 'fsync' on every commit (FULL)", async () => {
      const d = dir();
      const synchronous = (store: SqliteStore) =>
        (store as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true });
      const os = SqliteStore.open({ path: join(d, 'os.db') });
      const fsync = SqliteStore.open({ path: join(d, 'fsync.db'), durability: 'fsync' });
      cleanups.push(() => os.close(), () => fsync.close());
      assert.equal(synchronous(os), 1);
      assert.equal(synchronous(fsync), 2);
      assert.equal((os as unknown as { db: Database.Database }).db.pragma('journal_mode', { simple: true }), 'wal');
    });
  });

  describe('failures', () => {
    test('a failed commit rejects the batch promise and every later flush; nothing of it is written', async () => {
      const f = await fixture();
      f.store.putRetained(message('kept'));
      await f.store.flush();
      f.store.putRetained(message('lost'));
      // Not a Buffer: the STRICT table refuses it, so the transaction fails.
      f.store.putRetained(message('bad', { payload: 'text' as unknown as Buffer }));
      const pending = f.store.flush();
      await assert.rejects(pending!, /BLOB/);
      await assert.rejects(f.store.flush()!, /BLOB/);
      f.store.putRetained(message('after'));
      await nextTurn();
      await assert.rejects(f.store.flush()!, /BLOB/);
      assert.deepEqual(normalize(await f.peek()).retained, [message('kept')]);
    });

    test('a failed commit with nobody waiting is reported by the next flush, not as an unhandled rejection', async () => {
      const f = await fixture();
      let unhandled: unknown;
      const onUnhandled = (reason: unknown) => (unhandled = reason);
      process.on('unhandledRejection', onUnhandled);
      cleanups.push(() => void process.off('unhandledRejection', onUnhandled));
      f.store.putRetained(message('bad', { payload: 42 as unknown as Buffer }));
      // Past the turns a batch stays open, so the commit has failed before anyone asks.
      for (let turn = 0; turn < 6; turn++) await nextTurn();
      assert.equal(unhandled, undefined);
      await assert.rejects(f.store.flush()!, /BLOB/);
    });

    test('writing to a closed store throws', async () => {
      const f = await fixture();
      await f.store.close();
      assert.throws(() => f.store.putRetained(message('late')), /closed/);
    });

    test('load() of a file damaged after opening names the file', async () => {
      const f = await fixture();
      for (let i = 0; i < 2000; i++) f.store.putRetained(message(`t/${i}`, { payload: Buffer.alloc(200, i) }));
      await f.store.close();
      // Overwrite the middle of the file (table pages), keeping the header and schema page.
      const bytes = readFileSync(f.path);
      bytes.fill(0xa5, 8192, bytes.length - 8192);
      writeFileSync(f.path, bytes);
      let error: Error | undefined;
      try {
        const store = SqliteStore.open({ path: f.path });
        cleanups.push(() => store.close().catch(() => {}));
        await store.load();
      } catch (e) {
        error = e as Error;
      }
      assert.ok(error, 'a damaged file must not load as if it were fine');
      assert.ok(error.message.includes(f.path), error.message);
    });
  });
});

describe('openStore', () => {
  test('memory: true gives a MemoryStore and writes no file', async () => {
    const d = tempDir();
    try {
      const store = await openStore({ memory: true, dataDir: d.dir });
      assert.ok(store instanceof MemoryStore);
      assert.ok(!existsSync(join(d.dir, 'midge.db')));
    } finally {
      d.remove();
    }
  });

  test('otherwise a SqliteStore at <dataDir>/midge.db that keeps what it is given', async () => {
    const d = tempDir();
    try {
      const dataDir = join(d.dir, 'data');
      const retained: StoredMessage = message('kept', { retain: true });
      const store = await openStore({ memory: false, dataDir, durability: 'fsync' });
      assert.ok(store instanceof SqliteStore);
      store.putRetained(retained);
      await store.close();
      assert.ok(existsSync(join(dataDir, 'midge.db')));
      const again = await openStore({ memory: false, dataDir });
      assert.deepEqual((await again.load()).retained, [retained]);
      await again.close();
    } finally {
      d.remove();
    }
  });
});
