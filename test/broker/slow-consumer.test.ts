// A subscriber that does not read gets a bounded buffer and queue; others are not held up.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { withTimeout } from '../helpers/wait.js';

describe('MQTT 3.1.1 slow consumers', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({ maxBufferedBytes: 64 * 1024, maxQueuedMessages: 500 });
  });
  after(async () => {
    await b.close();
  });

  test('a subscriber that never reads does not stall others or grow without bound', async () => {
    const slow = await RawClient.connect(b.port, { clientId: 'slow' });
    slow.send({ type: 8, packetId: 1, subscriptions: [
      { topicFilter: 'flood/q0', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      { topicFilter: 'flood/q1', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    ] });
    await slow.next();
    slow.socket.pause();

    const healthy = await connect(b.url, { clientId: 'healthy' });
    const inbox = new Inbox(healthy);
    await subscribe(healthy, 'flood/#', { qos: 1 });

    const pub = await connect(b.url, { clientId: 'flooder' });
    const payload = Buffer.alloc(1024, 0x61);
    const total = 4000;
    // Windows of 100 keep the healthy subscriber's queue far below the bound; the paused one fills.
    for (let i = 0; i < total; i += 100) {
      const acks: Promise<unknown>[] = [];
      for (let j = i; j < i + 100; j++) acks.push(pub.publishAsync(j % 2 ? 'flood/q1' : 'flood/q0', payload, { qos: 1 }));
      await withTimeout(Promise.all(acks), 10000, 'a window of PUBACKs');
    }
    await inbox.waitFor(total, 20000);

    const session = b.broker.core.sessions.get('slow')!;
    assert.ok(session.queue.length <= 500, `slow queue holds ${session.queue.length}`);
    assert.ok(session.inflight.size <= b.broker.core.caps.maxInflight);
    assert.ok(b.broker.core.stats.messagesDropped > 0, 'drops are counted');
    slow.close();
    await end(healthy, pub);
  });
});
