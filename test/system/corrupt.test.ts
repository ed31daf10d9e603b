// A data directory whose midge.db Midge cannot trust stops the start: exit code 1, one line on
// stderr naming the file, and the file left as it was. Starting empty instead would silently
// throw away every retained message and persistent session (DESIGN.md: nothing acknowledged
// is lost).

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BrokerProcess, runMidgeToExit } from '../helpers/broker-process.js';
import { connect, end, publish } from '../helpers/mqttjs.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'midge-corrupt-'));
  dirs.push(dir);
  return dir;
}

/** A midge.db written by a real Midge run: `count` retained messages, then a clean stop. */
async function realDatabase(count: number): Promise<Buffer> {
  const broker = await BrokerProcess.start({ dataDir: dataDir() });
  try {
    const client = await connect(broker.url, { clientId: 'corrupt-setup' });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) sends.push(publish(client, `corrupt/${i}`, Buffer.alloc(200, i % 256), { qos: 1, retain: true }));
    await Promise.all(sends);
    await end(client);
    assert.deepEqual(await broker.stop('SIGTERM'), { code: 0, signal: null });
    // A clean stop checkpoints the WAL into the file: the file alone is the whole state.
    assert.ok(!existsSync(`${broker.dbPath}-wal`), 'the WAL was not checkpointed at the stop');
    return readFileSync(broker.dbPath);
  } finally {
    broker.dispose();
  }
}

/** Starts midge on a data directory holding `bytes` as midge.db and checks it refuses to start. */
async function assertRefused(bytes: Buffer, cause: RegExp): Promise<string> {
  const dir = dataDir();
  const path = join(dir, 'midge.db');
  writeFileSync(path, bytes);
  const run = await runMidgeToExit(dir);
  assert.equal(run.stdout, '', 'midge must not start (it printed its listening line)');
  assert.deepEqual({ code: run.code, signal: run.signal }, { code: 1, signal: null }, `stderr: ${run.stderr}`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${run.stderr}`);
  const line = lines[0]!;
  assert.match(line, /^midge: /);
  assert.ok(line.includes(path), `the error names the file ${path}: ${line}`);
  assert.match(line, cause);
  assert.ok(readFileSync(path).equals(bytes), 'the file is left as it was');
  return line;
}

describe('MQTT 3.1.1 broker start on a damaged data directory (no spec id: DESIGN.md "nothing acknowledged is lost")', () => {
  test('a midge.db of garbage bytes: exit code 1, one line naming the file, never an empty start', { timeout: 20_000 }, async () => {
    await assertRefused(Buffer.from('this is not a database, only garbage bytes. '.repeat(200)), /not a database/);
  });

  test('random bytes in place of midge.db are refused the same way', { timeout: 20_000 }, async () => {
    // Fixed, not random: the same bytes every run.
    const bytes = Buffer.alloc(64 * 1024);
    for (let i = 0, x = 12345; i < bytes.length; i++) bytes[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    await assertRefused(bytes, /not a database|malformed/);
  });

  test('a real midge.db cut off after its header is refused', { timeout: 20_000 }, async () => {
    const whole = await realDatabase(10);
    await assertRefused(whole.subarray(0, 60), /malformed|not a database|corrupt/i);
  });

  test('a real midge.db with its table pages overwritten is refused when its state is loaded', { timeout: 30_000 }, async () => {
    const bytes = await realDatabase(2000);
    assert.ok(bytes.length > 5 * 8192, `the file is only ${bytes.length} bytes`);
    // Keep the header and schema pages, damage the rest.
    bytes.fill(0xa5, 8192, bytes.length - 8192);
    await assertRefused(bytes, /malformed|corrupt/i);
  });

  test("another program's SQLite database is refused, not taken over", { timeout: 20_000 }, async () => {
    const source = join(dataDir(), 'other.db');
    const db = new Database(source);
    db.exec("CREATE TABLE things (x); INSERT INTO things VALUES ('theirs');");
    db.close();
    await assertRefused(readFileSync(source), /not a Midge database/);
  });

  test('a midge.db from a newer Midge (a schema version this one does not know) is refused', { timeout: 20_000 }, async () => {
    const dir = dataDir();
    const path = join(dir, 'future.db');
    writeFileSync(path, await realDatabase(1));
    const db = new Database(path);
    db.pragma('user_version = 999');
    db.close();
    await assertRefused(readFileSync(path), /version 999 is newer/);
  });
});
