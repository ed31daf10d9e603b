// Debian's paho-mqtt (Python, protocol=MQTTv5) against Midge: will delay, message expiry, shared
// subscriptions and topic aliases. The scripts are in test/interop/python/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { Program, SYSTEM_PYTHON } from '../helpers/process.js';
import { until } from '../helpers/wait.js';

const SCRIPTS = 'test/interop/python';

describe('MQTT 5 with paho-mqtt (v5)', { concurrency: true }, () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  const run = (script: string, ...args: string[]): Program =>
    Program.start(SYSTEM_PYTHON, ['-u', `${SCRIPTS}/${script}`, ...args], { MIDGE_PORT: String(b.port) });

  /** Lines "message <topic> <payload> qos=.. retain=.. expiry=.. alias=.." parsed. */
  const messages = (p: Program): { topic: string; payload: string; fields: Record<string, string> }[] =>
    p.lines
      .filter((l) => l.startsWith('message '))
      .map((l) => {
        const [, topic, payload, ...rest] = l.split(' ');
        return { topic, payload, fields: Object.fromEntries(rest.map((kv) => kv.split('=') as [string, string])) };
      });

  test('[MQTT-3.1.2-8][MQTT-3.1.3-10] (v5) paho: a will with Will Delay 1 s arrives about 1 s after the client vanishes, with its properties', async () => {
    const watcher = await connect(b.url, { protocolVersion: 5 });
    const inbox = new Inbox(watcher);
    await subscribe(watcher, 'paho5/will/delay', { qos: 1 });
    const client = run('v5_will_client.py', '--client-id', 'paho5-will-delay', '--will-topic', 'paho5/will/delay', '--will-payload', 'paho gone', '--will-delay', '1', '--session-expiry', '10');
    await client.waitForLine(/^connected 0$/);
    assert.equal(await client.waitExit(), 0);
    const vanished = Date.now();
    const [m] = await inbox.waitFor(1, 4000);
    const elapsed = Date.now() - vanished;
    assert.equal(m.payload.toString(), 'paho gone');
    assert.ok(elapsed >= 800, `will after ${elapsed} ms, expected about 1 s`);
    assert.equal(m.packet.properties?.contentType, 'text/plain');
    assert.deepEqual({ ...m.packet.properties?.userProperties }, { origin: 'paho' });
    await end(watcher);
  });

  test('[MQTT-3.1.3-9] (v5) paho: no will when the client comes back within the will delay', async () => {
    const watcher = await connect(b.url, { protocolVersion: 5 });
    const inbox = new Inbox(watcher);
    await subscribe(watcher, 'paho5/will/back/#', { qos: 1 });
    // A 3 s delay leaves time for a second Python process to start and connect.
    const client = run('v5_will_client.py', '--client-id', 'paho5-will-back', '--will-topic', 'paho5/will/back/w', '--will-delay', '3', '--session-expiry', '10');
    await client.waitForLine(/^connected 0$/);
    await client.waitExit();
    const vanished = Date.now();
    const back = run('v5_subscriber.py', '--client-id', 'paho5-will-back', '--resume', '--session-expiry', '10', '--filter', 'paho5/none', '--leave');
    await back.waitForLine(/^connected Success session_present=1$/);
    assert.ok(Date.now() - vanished < 3000, 'came back within the will delay');
    await new Promise((resolve) => setTimeout(resolve, vanished + 3300 - Date.now()));
    await publish(watcher, 'paho5/will/back/probe', 'probe', { qos: 1 });
    const [m] = await inbox.waitFor(1);
    assert.equal(m.topic, 'paho5/will/back/probe', 'the will did not come before the probe');
    back.kill();
    await back.waitExit();
    await end(watcher);
  });

  test('[MQTT-3.3.2-5][MQTT-3.3.2-6] (v5) paho: an offline paho session gets the remaining expiry of a queued message and never the expired one', async () => {
    const first = run('v5_subscriber.py', '--client-id', 'paho5-expiry', '--session-expiry', '60', '--filter', 'paho5/expiry', '--leave');
    await first.waitForLine(/^subscribed 1$/);
    assert.equal(await first.waitExit(), 0);
    const pub = run('v5_publisher.py',
      JSON.stringify({ topic: 'paho5/expiry', payload: 'short', qos: 1, expiry: 1 }),
      JSON.stringify({ topic: 'paho5/expiry', payload: 'long', qos: 1, expiry: 10 }));
    await pub.waitForLine(/^done$/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const back = run('v5_subscriber.py', '--client-id', 'paho5-expiry', '--resume', '--session-expiry', '0', '--filter', 'paho5/expiry', '--count', '1');
    await back.waitForLine(/^message /);
    const [m] = messages(back);
    assert.equal(m.payload, 'long', 'the expired message was not delivered');
    const expiry = Number(m.fields.expiry);
    assert.ok(expiry <= 9 && expiry >= 5, `forwarded expiry ${m.fields.expiry}, expected 9 or less`);
    assert.equal(await back.waitExit(), 0);
  });

  test('(v5) paho: two members of a shared subscription share the messages, each message once', async () => {
    const members = [1, 2].map((i) => run('v5_subscriber.py', '--client-id', `paho5-share-${i}`, '--filter', '$share/paho/paho5/jobs', '--qos', '1'));
    for (const m of members) await m.waitForLine(/^subscribed 1$/);
    const pub = await connect(b.url, { protocolVersion: 5 });
    for (let i = 0; i < 10; i++) await publish(pub, 'paho5/jobs', String(i), { qos: 1 });
    await until(() => members.reduce((n, m) => n + messages(m).length, 0) >= 10, 5000, 'ten messages across the members');
    const payloads = members.flatMap((m) => messages(m).map((x) => Number(x.payload)));
    assert.deepEqual(payloads.sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const m of members) m.kill();
    await Promise.all(members.map((m) => m.waitExit()));
    await end(pub);
  });

  test('(v5) paho: the messages queued for a shared member whose session expires go to the member still there', async () => {
    const leaver = run('v5_subscriber.py', '--client-id', 'paho5-hand-a', '--session-expiry', '1', '--filter', '$share/pahohand/paho5/hand', '--qos', '1', '--leave');
    await leaver.waitForLine(/^subscribed 1$/);
    assert.equal(await leaver.waitExit(), 0);
    await until(() => b.broker.core.sessions.get('paho5-hand-a')?.client === undefined, 5000, 'the leaver offline');
    // The leaver is the group's only member: it queues all ten while offline.
    const pub = await connect(b.url, { protocolVersion: 5 });
    for (let i = 0; i < 10; i++) await publish(pub, 'paho5/hand', String(i), { qos: 1 });
    assert.equal(b.broker.core.sessions.get('paho5-hand-a')!.queuedCount, 10);
    const stayer = run('v5_subscriber.py', '--client-id', 'paho5-hand-b', '--filter', '$share/pahohand/paho5/hand', '--qos', '1', '--count', '10');
    await stayer.waitForLine(/^subscribed 1$/);
    // Within a second the leaver's session expires, and its ten come to the member still there.
    assert.equal(await stayer.waitExit(), 0);
    assert.deepEqual(messages(stayer).map((m) => Number(m.payload)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(b.broker.core.sessions.has('paho5-hand-a'), false);
    await end(pub);
  });

  test('[MQTT-3.3.2-12] (v5) paho: a topic alias set by paho is resolved by the broker for every subscriber', async () => {
    const sub = await connect(b.url, { protocolVersion: 5 });
    const inbox = new Inbox(sub);
    await subscribe(sub, 'paho5/alias/#', { qos: 1 });
    const pub = run('v5_publisher.py',
      JSON.stringify({ topic: 'paho5/alias/t', payload: 'one', qos: 1, alias: 1 }),
      JSON.stringify({ topic: '', payload: 'two', qos: 1, alias: 1 }),
      JSON.stringify({ topic: '', payload: 'three', qos: 1, alias: 1 }),
      JSON.stringify({ topic: 'paho5/alias/u', payload: 'four', qos: 0, alias: 2 }),
      JSON.stringify({ topic: '', payload: 'five', qos: 1, alias: 2 }));
    await pub.waitForLine(/^connected topic_alias_maximum=\d+$/);
    assert.ok(Number(/=(\d+)/.exec(pub.lines[0])![1]) >= 2, 'the broker announced room for aliases');
    await pub.waitForLine(/^done$/);
    const got = await inbox.waitFor(5);
    assert.deepEqual(got.map((m) => `${m.topic} ${m.payload.toString()}`), ['paho5/alias/t one', 'paho5/alias/t two', 'paho5/alias/t three', 'paho5/alias/u four', 'paho5/alias/u five']);
    await end(sub);
  });

  test('[MQTT-3.1.2-27] (v5) paho: a subscriber that announced no Topic Alias Maximum gets every topic in full', async () => {
    const sub = run('v5_subscriber.py', '--client-id', 'paho5-noalias', '--filter', 'paho5/noalias/#', '--count', '6');
    await sub.waitForLine(/^subscribed 1$/);
    const pub = await connect(b.url, { protocolVersion: 5 });
    const topics = ['paho5/noalias/a', 'paho5/noalias/b', 'paho5/noalias/a', 'paho5/noalias/a', 'paho5/noalias/b', 'paho5/noalias/a'];
    for (const [i, t] of topics.entries()) await publish(pub, t, String(i), { qos: 1 });
    assert.equal(await sub.waitExit(), 0);
    const got = messages(sub);
    assert.deepEqual(got.map((m) => m.topic), topics);
    assert.ok(got.every((m) => m.fields.alias === '-'));
    await end(pub);
  });
});
