// Opening the SQLite file: WAL, the durability level, and the schema brought up to date.
//
// The schema version lives in `PRAGMA user_version`; MIGRATIONS[n] takes a database from
// version n to n + 1 and runs in one transaction with the version bump, so a crash mid-way
// leaves the old version intact. Append new steps; never edit a released one.
//
// A file Midge cannot trust (not SQLite, damaged, another program's database, a schema from a
// newer Midge) stops the start with an error naming the file: starting empty would silently
// throw away every retained message and session.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type Durability = 'os' | 'fsync';

/** 'Midg': marks the file as Midge's in the SQLite header. */
const APPLICATION_ID = 0x4d696467;

const MIGRATIONS: readonly string[] = [
  // 1: retained messages, sessions, queued / in-flight deliveries, incoming QoS 2 ids.
  // A message owed to many sessions is stored once in `messages`; deliveries reference it and
  // the triggers keep `refs` counting them, dropping the message with its last delivery.
  `
  CREATE TABLE retained (
    topic TEXT PRIMARY KEY,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    properties TEXT,
    expires_at INTEGER
  ) STRICT;

  CREATE TABLE sessions (
    client_id TEXT PRIMARY KEY,
    expiry_interval INTEGER NOT NULL,
    protocol_version INTEGER NOT NULL,
    subscriptions TEXT NOT NULL,
    disconnected_at INTEGER
  ) STRICT;

  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    properties TEXT,
    expires_at INTEGER,
    refs INTEGER NOT NULL DEFAULT 0
  ) STRICT;

  CREATE TABLE deliveries (
    client_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    subscription_ids TEXT,
    packet_id INTEGER,
    released INTEGER,
    PRIMARY KEY (client_id, seq)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE incoming_qos2 (
    client_id TEXT NOT NULL,
    packet_id INTEGER NOT NULL,
    PRIMARY KEY (client_id, packet_id)
  ) STRICT, WITHOUT ROWID;

  CREATE TRIGGER delivery_added AFTER INSERT ON deliveries BEGIN
    UPDATE messages SET refs = refs + 1 WHERE id = NEW.message_id;
  END;

  CREATE TRIGGER delivery_removed AFTER DELETE ON deliveries BEGIN
    UPDATE messages SET refs = refs - 1 WHERE id = OLD.message_id;
    DELETE FROM messages WHERE id = OLD.message_id AND refs <= 0;
  END;

  CREATE TRIGGER delivery_message_changed AFTER UPDATE OF message_id ON deliveries
  WHEN OLD.message_id <> NEW.message_id BEGIN
    UPDATE messages SET refs = refs + 1 WHERE id = NEW.message_id;
    UPDATE messages SET refs = refs - 1 WHERE id = OLD.message_id;
    DELETE FROM messages WHERE id = OLD.message_id AND refs <= 0;
  END;

  PRAGMA application_id = ${APPLICATION_ID};
  `,
  // 2: 5.0 wills waiting out their Will Delay Interval, one per client id. Not tied to the
  // sessions table: a will outlives its session.
  `
  CREATE TABLE wills (
    client_id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    properties TEXT,
    expires_at INTEGER,
    publish_at INTEGER NOT NULL
  ) STRICT;
  `,
  // 3: the shared subscription a delivery came through (5.0), so that what a member of a
  // group has not received can go to another member after a restart too.
  `
  ALTER TABLE deliveries ADD COLUMN share_group TEXT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Opens (creating if needed) the database at `path`, ready for the current schema. */
export function openDatabase(path: string, durability: Durability): Database.Database {
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    // The first statements read the header: a file that is not SQLite fails here. Whose file
    // it is is checked before anything is written, WAL mode included: a file that is not
    // Midge's is left exactly as it was.
    checkIdentity(db);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`cannot switch to WAL mode (journal mode is ${String(mode)})`);
    // In WAL mode NORMAL syncs only at checkpoints: a commit survives the process dying,
    // FULL also syncs the WAL on every commit, so it survives the machine losing power.
    db.pragma(`synchronous = ${durability === 'fsync' ? 'FULL' : 'NORMAL'}`);
    // Retained topics update at random places in the topic index; a bigger page cache keeps
    // those pages in memory between commits. Checkpoints shrink the WAL back to this size.
    db.pragma('cache_size = -32768');
    db.pragma('journal_size_limit = 67108864');
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw storeError(`cannot open the store ${path}`, error);
  }
}

/** An error naming the file, with the SQLite error as its cause. */
export function storeError(what: string, cause: unknown): Error {
  return new Error(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}

/** Refuses a file that is not Midge's, or is Midge's from a newer schema; reads only. */
function checkIdentity(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  if (applicationId !== 0 && applicationId !== APPLICATION_ID) {
    throw new Error(`not a Midge database (application id ${applicationId})`);
  }
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `schema version ${version} is newer than this Midge knows (${SCHEMA_VERSION}); ` +
        'run the Midge version that wrote it, or start with another data directory',
    );
  }
  if (version === 0) {
    const tables = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number;
    if (tables > 0) throw new Error('not a Midge database (it has tables but no Midge schema version)');
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let from = version; from < SCHEMA_VERSION; from++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[from]!);
      db.pragma(`user_version = ${from + 1}`);
    })();
  }
  // Reading the schema parses every table definition: catches a damaged schema page now.
  db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
}
