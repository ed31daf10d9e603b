// The last will, MQTT 3.1.1 (sections 3.1.2.5-3.1.2.7, 3.14), and the seed's status pattern.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, drop, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';

describe('MQTT 3.1.1 last will', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  async function watcher(filter: string): Promise<{ inbox: Inbox; close: () => Promise<void> }> {
    const w = await connect(b.url);
    const inbox = new Inbox(w);
    await subscribe(w, filter, { qos: 1 });
    return { inbox, close: () => end(w) };
  }

  test('[MQTT-3.1.2-8][MQTT-3.1.2-16] the will is published when the socket drops, not retained', async () => {
    const w = await watcher('will/drop');
    const c = await connect(b.url, { will: { topic: 'will/drop', payload: Buffer.from('gone'), qos: 1, retain: false } });
    drop(c);
    const [m] = await w.inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'gone');
    assert.equal(m.packet.qos, 1);
    assert.equal(b.broker.core.retained.get('will/drop'), undefined);
    await w.close();
  });

  test('[MQTT-3.1.2-10][MQTT-3.14.4-3] no will after DISCONNECT', async () => {
    const w = await watcher('will/clean');
    const c = await connect(b.url, { will: { topic: 'will/clean', payload: Buffer.from('never'), qos: 0, retain: false } });
    await end(c);
    const probe = await connect(b.url);
    await publish(probe, 'will/clean', 'probe', { qos: 1 });
    const [m] = await w.inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'probe', 'the first message after the DISCONNECT is the probe, not the will');
    await end(probe);
    await w.close();
  });

  test('[MQTT-3.1.2-12] no will flag, nothing published on drop', async () => {
    const w = await watcher('will/none/#');
    const c = await connect(b.url);
    drop(c);
    const probe = await connect(b.url);
    await publish(probe, 'will/none/probe', 'p', { qos: 1 });
    assert.deepEqual((await w.inbox.waitFor(1)).map((m) => m.topic), ['will/none/probe']);
    await end(probe);
    await w.close();
  });

  test('[MQTT-3.1.2-8][MQTT-3.1.2-24] the will is published when keep alive expires', async () => {
    const w = await watcher('will/keepalive');
    const c = await RawClient.connect(b.port, {
      keepAlive: 1,
      will: { topic: 'will/keepalive', payload: Buffer.from('timed out'), qos: 0, retain: false },
    });
    const [m] = await w.inbox.waitFor(1, 4000);
    assert.equal(m.payload.toString(), 'timed out');
    await c.waitClosed();
    await w.close();
  });

  test('[MQTT-3.1.2-8][MQTT-4.8.0-1] the will is published when the client commits a protocol violation', async () => {
    const w = await watcher('will/violation');
    const c = await RawClient.connect(b.port, { will: { topic: 'will/violation', payload: Buffer.from('bad'), qos: 0, retain: false } });
    c.send({ type: 3, topic: 'no/#', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await c.waitClosed();
    assert.equal((await w.inbox.waitFor(1))[0].payload.toString(), 'bad');
    await w.close();
  });

  test('[MQTT-3.1.2-8][MQTT-3.1.4-2] the will of a connection taken over is published', async () => {
    const w = await watcher('will/takeover');
    const old = await RawClient.connect(b.port, { clientId: 'will-takeover', will: { topic: 'will/takeover', payload: Buffer.from('replaced'), qos: 0, retain: false } });
    const fresh = await RawClient.connect(b.port, { clientId: 'will-takeover' });
    await old.waitClosed();
    assert.equal((await w.inbox.waitFor(1))[0].payload.toString(), 'replaced');
    fresh.close();
    await w.close();
  });

  test('[MQTT-3.1.2-17] a will with retain=1 is published retained and stays for late subscribers', async () => {
    const c = await connect(b.url, { will: { topic: 'will/retained', payload: Buffer.from('kept'), qos: 1, retain: true } });
    const w = await watcher('will/retained');
    drop(c);
    await w.inbox.waitFor(1);
    const late = await watcher('will/retained');
    const [m] = await late.inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'kept');
    assert.equal(m.packet.retain, true);
    await w.close();
    await late.close();
  });

  test('the seed status pattern: online while up, offline after the client drops', async () => {
    const device = await connect(b.url, {
      clientId: 'client1',
      will: { topic: 'client1/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await publish(device, 'client1/status', 'online', { qos: 1, retain: true });

    const early = await watcher('client1/status');
    assert.equal((await early.inbox.waitFor(1))[0].payload.toString(), 'online');

    drop(device);
    const seen = await early.inbox.waitFor(2);
    assert.equal(seen[1].payload.toString(), 'offline');

    const late = await watcher('client1/status');
    const [m] = await late.inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'offline');
    assert.equal(m.packet.retain, true);
    await early.close();
    await late.close();
  });
});
