// A real client against a paged session queue: Debian's paho-mqtt (MQTT 5.0) leaves a persistent
// session, MQTT.js queues 3,000 QoS 1 messages for it, and paho comes back for all of them,
// read from the SQLite store through a 50-message window.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end } from '../helpers/mqttjs.js';
import { Program, SYSTEM_PYTHON } from '../helpers/process.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const COUNT = 3000;

describe('paged session queue with paho-mqtt (v5)', () => {
  let dir: string;
  let b: TestBroker;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-paged-paho-'));
    b = await startBroker({ store: SqliteStore.open({ path: join(dir, 'midge.db') }), queueWindow: 50 });
  });
  after(async () => {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (...args: string[]): Program =>
    Program.start(SYSTEM_PYTHON, ['-u', 'test/interop/python/v5_subscriber.py', '--client-id', 'paho-paged', '--session-expiry', '600', '--filter', 'paged/#', ...args], {
      MIDGE_PORT: String(b.port),
    });

  test('[MQTT-3.1.2-5] (v5) [MQTT-4.6.0-6] (v5) paho gets every message queued while it was away, in order, from the store', async () => {
    const leave = run('--leave');
    assert.equal(await leave.waitExit(), 0);
    const session = b.broker.core.sessions.get('paho-paged')!;
    const pub = await connect(b.url, { protocolVersion: 5 });
    for (let i = 0; i < COUNT; i++) pub.publish('paged/t', String(i), { qos: 1 });
    await new Promise<void>((resolve, reject) => pub.publish('paged/t', 'last', { qos: 1 }, (error) => (error ? reject(error) : resolve())));
    await end(pub);
    assert.equal(session.queue.length, 0, 'the offline queue is in the store only');
    assert.equal(session.queue.backlog, COUNT + 1);

    const back = run('--resume', '--count', String(COUNT + 1));
    await back.waitForLine(/^connected Success session_present=1$/);
    assert.equal(await back.waitExit(30_000), 0);
    const payloads = back.lines.filter((l) => l.startsWith('message ')).map((l) => l.split(' ')[2]);
    assert.deepEqual(payloads, [...Array.from({ length: COUNT }, (_, i) => String(i)), 'last']);
  });
});
