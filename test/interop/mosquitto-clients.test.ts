// mosquitto_pub and mosquitto_sub (Debian mosquitto-clients) against Midge.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, publish } from '../helpers/mqttjs.js';
import { Program } from '../helpers/process.js';
import { until } from '../helpers/wait.js';

describe('MQTT 3.1.1 with mosquitto_pub / mosquitto_sub', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  const pub = async (...args: string[]): Promise<void> => {
    const p = Program.start('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(b.port), ...args]);
    assert.equal(await p.waitExit(), 0, `mosquitto_pub ${args.join(' ')}`);
  };
  const subscribeUntilRetained = (topic: string, ...args: string[]): Program =>
    Program.start('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(b.port), '-t', topic, '-v', ...args]);
  const hasSubscription = (filter: string): boolean =>
    [...b.broker.core.sessions.values()].some((s) => s.client !== undefined && s.subscriptions.has(filter));

  test('[MQTT-3.3.1-5][MQTT-3.3.1-6] a retained value set with -r is read by a late subscriber, then deleted with -r -n', async () => {
    await pub('-t', 'mosq/status', '-m', 'online', '-r', '-q', '1');
    const late = subscribeUntilRetained('mosq/status', '-C', '1', '-W', '5');
    await late.waitForLine(/^mosq\/status online$/);
    assert.equal(await late.waitExit(), 0);

    await pub('-t', 'mosq/status', '-r', '-n', '-q', '1');
    // --retained-only prints retained messages and exits at the first live one: none must print.
    const after = subscribeUntilRetained('mosq/status', '--retained-only', '-W', '1');
    await after.waitExit();
    assert.deepEqual(after.lines, []);
    assert.equal(b.broker.core.retained.get('mosq/status'), undefined);
  });

  test('[MQTT-4.3.3-1][MQTT-4.3.3-2] QoS 2 from mosquitto_pub to mosquitto_sub arrives exactly once', async () => {
    const sub = subscribeUntilRetained('mosq/q2', '-q', '2', '-C', '3', '-W', '10');
    await until(() => hasSubscription('mosq/q2'), 5000, 'mosquitto_sub subscription');
    for (const m of ['a', 'b', 'c']) await pub('-t', 'mosq/q2', '-m', m, '-q', '2');
    assert.equal(await sub.waitExit(), 0);
    assert.deepEqual(sub.lines, ['mosq/q2 a', 'mosq/q2 b', 'mosq/q2 c']);
  });

  test('[MQTT-3.1.2-8] a will set with --will-topic is published when mosquitto_sub is killed', async () => {
    const watcher = subscribeUntilRetained('mosq/will', '-C', '1', '-W', '10');
    await until(() => hasSubscription('mosq/will'), 5000, 'watcher subscription');
    const victim = Program.start('mosquitto_sub', [
      '-h', '127.0.0.1', '-p', String(b.port), '-i', 'mosq-victim', '-t', 'mosq/other',
      '--will-topic', 'mosq/will', '--will-payload', 'victim died', '--will-qos', '1',
    ]);
    await until(() => hasSubscription('mosq/other'), 5000, 'victim subscription');
    victim.kill('SIGKILL');
    await watcher.waitForLine(/^mosq\/will victim died$/);
    assert.equal(await watcher.waitExit(), 0);
  });

  test('[MQTT-3.3.1-6][MQTT-3.3.1-8] (3.1.1) mosquitto_sub gets 3,000 retained QoS 1 messages of a new subscription once each, under the retained window', async () => {
    const loader = await connect(b.url, { clientId: 'mosq-ret-loader' });
    for (let i = 0; i < 3000; i++) loader.publish(`mosq/ret/${i}`, String(i), { qos: 1, retain: true });
    await publish(loader, 'mosq/ret-sync', 'x', { qos: 1 });
    await end(loader);
    const sub = subscribeUntilRetained('mosq/ret/#', '-q', '1', '-C', '3000', '-W', '20', '--retained-only');
    assert.equal(await sub.waitExit(30_000), 0);
    assert.equal(sub.lines.length, 3000);
    assert.equal(new Set(sub.lines.map((l) => l.split(' ')[0])).size, 3000, 'each topic once');
  });

  test('[MQTT-7.0.0-2] (3.1.1) clients made for other brokers work unchanged: mosquitto_pub and mosquitto_sub with their defaults only', async () => {
    // No option of theirs is set for Midge (protocol, QoS, keep alive and client ids are theirs),
    // and Midge needs nothing beyond the specification from them.
    const sub = subscribeUntilRetained('mosq/plain', '-C', '1', '-W', '10');
    await until(() => hasSubscription('mosq/plain'), 5000, 'mosquitto_sub subscription');
    await pub('-t', 'mosq/plain', '-m', 'hello');
    assert.equal(await sub.waitExit(), 0);
    assert.deepEqual(sub.lines, ['mosq/plain hello']);
  });

  test('MQTT 3.1 (-V mqttv31) and 3.1.1 clients share topics', async () => {
    const sub = subscribeUntilRetained('mosq/mixed', '-V', 'mqttv31', '-C', '2', '-W', '10');
    await until(() => hasSubscription('mosq/mixed'), 5000, 'v3.1 subscription');
    await pub('-t', 'mosq/mixed', '-m', 'from-311', '-V', 'mqttv311', '-q', '1');
    await pub('-t', 'mosq/mixed', '-m', 'from-31', '-V', 'mqttv31', '-q', '1');
    assert.equal(await sub.waitExit(), 0);
    assert.deepEqual(sub.lines, ['mosq/mixed from-311', 'mosq/mixed from-31']);
  });
});
