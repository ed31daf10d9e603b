// A real client under the retained window: Debian's paho-mqtt (MQTT 5.0, no Receive Maximum of
// its own, so 65,535) subscribes to a filter matching 3,000 retained QoS 1 messages, which Midge
// sends up to 1,000 unacknowledged at a time (--max-inflight-retained), and gets each once.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, publish } from '../helpers/mqttjs.js';
import { Program, SYSTEM_PYTHON } from '../helpers/process.js';

const COUNT = 3000;

describe('retained window with paho-mqtt (v5)', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.3.1-9] (v5) paho gets every retained QoS 1 message of a new subscription once, with RETAIN set', async () => {
    const pub = await connect(b.url, { protocolVersion: 5 });
    for (let i = 0; i < COUNT; i++) pub.publish(`rwp/${i}`, String(i), { qos: 1, retain: true });
    await publish(pub, 'rwp-sync', 'x', { qos: 1 });
    await end(pub);
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, b.broker.core.sessions.get('paho-retained')?.inflight.size ?? 0);
    }, 1);
    const sub = Program.start(SYSTEM_PYTHON, ['-u', 'test/interop/python/v5_subscriber.py', '--client-id', 'paho-retained', '--filter', 'rwp/#', '--count', String(COUNT)], {
      MIDGE_PORT: String(b.port),
    });
    try {
      assert.equal(await sub.waitExit(30_000), 0);
    } finally {
      clearInterval(sampler);
    }
    const messages = sub.lines.filter((l) => l.startsWith('message ')).map((l) => l.split(' '));
    assert.equal(messages.length, COUNT);
    assert.equal(new Set(messages.map((m) => m[1])).size, COUNT, 'each topic once');
    assert.ok(messages.every((m) => m[3] === 'qos=1' && m[4] === 'retain=1'), messages.find((m) => m[3] !== 'qos=1' || m[4] !== 'retain=1')?.join(' '));
    // Sampled between the broker's own callbacks, where each drain has just refilled the window:
    // above the live window (100) while the 3,000 last, never above the retained one.
    assert.ok(most > 100 && most <= 1000, `between the live and the retained window unacknowledged (saw ${most})`);
  });
});
