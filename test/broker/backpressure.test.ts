// Publishers faster than their one subscriber are held back instead of overflowing its queue.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, subscribe } from '../helpers/mqttjs.js';
import { withTimeout } from '../helpers/wait.js';

describe('MQTT 3.1.1 backpressure', () => {
  let b: TestBroker;
  before(async () => {
    // A queue bound far below what the publishers send at once: without backpressure the
    // subscriber's queue overflows and acknowledged messages are dropped.
    b = await startBroker({ maxQueuedMessages: 200, maxInflight: 10 });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-4.5.0-1] fan-in of 8 unthrottled QoS 1 publishers to one subscriber loses nothing', async () => {
    const sub = await connect(b.url, { clientId: 'fan-in-sub' });
    const inbox = new Inbox(sub);
    await subscribe(sub, 'bp/+', { qos: 1 });
    const publishers = await Promise.all(Array.from({ length: 8 }, (_, i) => connect(b.url, { clientId: `fan-in-pub-${i}` })));
    const perPublisher = 500;
    const acks: Promise<unknown>[] = [];
    publishers.forEach((pub, p) => {
      for (let i = 0; i < perPublisher; i++) acks.push(pub.publishAsync(`bp/${p}`, `${p}:${i}`, { qos: 1 }));
    });
    await withTimeout(Promise.all(acks), 30000, 'every PUBACK');
    const got = await inbox.waitFor(8 * perPublisher, 30000);
    assert.equal(b.broker.core.stats.messagesDropped, 0);
    for (let p = 0; p < 8; p++) {
      const seq = got.filter((m) => m.topic === `bp/${p}`).map((m) => Number(m.payload.toString().split(':')[1]));
      assert.deepEqual(seq, Array.from({ length: perPublisher }, (_, i) => i), `publisher ${p} in order, complete`);
    }
    await end(sub, ...publishers);
  });
});
