// The seed's two paho-mqtt scripts (examples/seed/), run unchanged against Midge.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { Program, SYSTEM_PYTHON } from '../helpers/process.js';
import { until } from '../helpers/wait.js';

describe('MQTT 3.1.1 seed scripts with paho-mqtt', () => {
  let b: TestBroker;
  let dir: string;
  before(async () => {
    b = await startBroker();
    dir = mkdtempSync(join(tmpdir(), 'midge-seed-'));
  });
  after(async () => {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startSubscriber(): Promise<Program> {
    const sub = Program.start(SYSTEM_PYTHON, ['-u', 'examples/seed/sub_lwt.py'], { MIDGE_PORT: String(b.port) });
    await sub.waitForLine(/^Connected with result code 0$/);
    await until(() => [...b.broker.core.sessions.values()].some((s) => s.subscriptions.has('test/rensanning/#')), 5000, 'the subscription');
    return sub;
  }

  test('[MQTT-3.1.2-8] pub_lwt.py exits without DISCONNECT: the subscriber gets the time message, then the will', async () => {
    const sub = await startSubscriber();
    const pub = Program.start(SYSTEM_PYTHON, ['-u', 'examples/seed/pub_lwt.py'], { MIDGE_PORT: String(b.port) });
    assert.equal(await pub.waitExit(), 0);
    assert.ok(pub.lines.includes('done.'));
    await sub.waitForLine(/^test\/rensanning\/will b'Last will message'$/);
    const received = sub.lines.filter((l) => l.startsWith('test/rensanning/'));
    assert.equal(received.length, 2);
    assert.match(received[0], /^test\/rensanning\/time b'test LWT /);
    assert.equal(received[1], "test/rensanning/will b'Last will message'");
    sub.kill();
    await sub.waitExit();
  });

  test('[MQTT-3.1.2-10][MQTT-3.14.4-3] with client.disconnect() un-commented, no will arrives', async () => {
    const source = readFileSync('examples/seed/pub_lwt.py', 'utf8');
    assert.ok(source.includes('#client.disconnect()'));
    const script = join(dir, 'pub_lwt_disconnect.py');
    // Un-commented as it is, the script can race its own CONNACK: when the CONNACK arrives after
    // paho's network thread last read, the script closes a socket that holds unread data, and
    // Linux then resets the connection and drops what it had not sent yet, the DISCONNECT
    // included (paho leaves Nagle on, which holds it behind the PUBLISH). The broker, which
    // never got the DISCONNECT, rightly publishes the will (seen once in a loaded test run). So
    // the script first waits, at most 5 s, until paho has read the CONNACK.
    const waitForConnack = 'for _ in range(500):\n    if client.is_connected():\n        break\n    time.sleep(0.01)\n';
    writeFileSync(script, source.replace('#client.disconnect()', `${waitForConnack}client.disconnect()`));
    const sub = await startSubscriber();
    const pub = Program.start(SYSTEM_PYTHON, ['-u', script], { MIDGE_PORT: String(b.port) });
    assert.equal(await pub.waitExit(), 0);
    await sub.waitForLine(/^test\/rensanning\/time /);
    // A probe published after the publisher is gone arrives next: no will came before it.
    const probe = Program.start('mosquitto_pub', ['-p', String(b.port), '-t', 'test/rensanning/probe', '-m', 'probe', '-q', '1']);
    assert.equal(await probe.waitExit(), 0);
    await sub.waitForLine(/^test\/rensanning\/probe /);
    const received = sub.lines.filter((l) => l.startsWith('test/rensanning/'));
    assert.equal(received.length, 2, `received: ${JSON.stringify(received)}`);
    assert.ok(!received.some((l) => l.includes('will')));
    sub.kill();
    await sub.waitExit();
  });
});
