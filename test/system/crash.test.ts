// kill -9 in the middle of heavy QoS 1 / QoS 2 traffic (DESIGN.md invariant: nothing
// acknowledged is lost, not by kill -9). A publisher sends numbered messages to an offline
// persistent subscriber, plus a retained counter every 100 messages; Midge gets SIGKILL at a
// point chosen by a seeded random number (in the test name: rerun one with MIDGE_CRASH_SEED).
// After a new start, everything acknowledged must be there.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerProcess } from '../helpers/broker-process.js';
import { connectWithInbox, end, subscribe, type Received } from '../helpers/mqttjs.js';
import { connectSession } from '../helpers/mqttjs-session.js';
import { WindowedPublisher, type Outbound } from '../helpers/windowed-publisher.js';
import { until } from '../helpers/wait.js';
import { seededRandom } from '../helpers/seeded-random.js';

const MESSAGES = 20_000;
const WINDOW = 100;
const COUNTER_EVERY = 100;
const RUNS = 3;
const BASE_SEED = Number(process.env.MIDGE_CRASH_SEED ?? 20_251_128);

const Q1 = 'crash/q1';
const Q2 = 'crash/q2';
const COUNTER = 'crash/counter';
const END = 'end';

/** Message i: even i QoS 1 on crash/q1, odd i QoS 2 on crash/q2; after every 100th, the counter (retained, QoS 1). */
function* traffic(stop: () => boolean): Generator<Outbound> {
  for (let i = 0; i < MESSAGES && !stop(); i++) {
    const qos = i % 2 === 0 ? 1 : 2;
    yield { id: i, topic: qos === 1 ? Q1 : Q2, payload: Buffer.from(String(i)), qos, retain: false };
    if ((i + 1) % COUNTER_EVERY === 0) yield { id: i + 1, topic: COUNTER, payload: Buffer.from(String(i + 1)), qos: 1, retain: true };
  }
}

function* endMarkers(): Generator<Outbound> {
  yield { id: -1, topic: Q1, payload: Buffer.from(END), qos: 1, retain: false };
  yield { id: -2, topic: Q2, payload: Buffer.from(END), qos: 2, retain: false };
}

async function retainedCounter(url: string): Promise<number | undefined> {
  const { client, inbox } = await connectWithInbox(url, { clientId: `counter-reader-${Date.now()}`, clean: true });
  try {
    // The SUBACK comes before or with the retained message; none arriving by the next
    // round trip (a second SUBACK) means there is none.
    await subscribe(client, COUNTER, { qos: 1 });
    await subscribe(client, 'crash/nothing-here', { qos: 0 });
    const received = inbox.messages.filter((m) => m.topic === COUNTER);
    assert.ok(received.length <= 1, `${received.length} retained counters`);
    if (received.length === 0) return undefined;
    assert.equal(received[0]!.packet.retain, true, 'a retained message to a new subscription has RETAIN set [MQTT-3.3.1-8]');
    return Number(received[0]!.payload.toString());
  } finally {
    await end(client);
  }
}

const numbersOf = (messages: Received[], topic: string): number[] =>
  messages.filter((m) => m.topic === topic && m.payload.toString() !== END).map((m) => Number(m.payload.toString()));

describe('MQTT 3.1.1 crash: SIGKILL during QoS 1 / QoS 2 traffic to an offline persistent session', () => {
  for (let run = 0; run < RUNS; run++) {
    const seed = BASE_SEED + run;
    const fraction = 0.2 + 0.6 * seededRandom(seed)();
    const killAfter = Math.floor(MESSAGES * fraction);
    const name =
      `[MQTT-3.1.2-5] [MQTT-4.3.3-2] [MQTT-4.4.0-1] [MQTT-3.3.1-5] run ${run + 1}/${RUNS} (seed ${seed}): ` +
      `SIGKILL after ${killAfter} acknowledged messages (${Math.round(fraction * 100)}%); ` +
      'every acknowledged message arrives (QoS 2 exactly once, QoS 1 at least once), the retained counter is not older';

    test(name, { timeout: 40_000 }, async () => {
      const started = Date.now();
      const broker = await BrokerProcess.start();
      const clients: { end(): Promise<void> }[] = [];
      let publisher: WindowedPublisher | undefined;
      try {
        // The subscriber's persistent session, then it goes offline.
        const sub = await connectSession(broker.url, { clientId: 'crash-sub', clean: false, protocolVersion: 4 });
        assert.equal(sub.connack.sessionPresent, false);
        await subscribe(sub.client, Q1, { qos: 1 });
        await subscribe(sub.client, Q2, { qos: 2 });
        await end(sub.client);

        // What the broker acknowledged: QoS 1 by PUBACK, QoS 2 by PUBREC (it owns the message from then on).
        const acked = new Set<number>();
        const completed = new Set<number>();
        let lastAckedCounter = 0;
        let lastSentCounter = 0;
        let lastSentMessage = -1;
        let killed = false;
        publisher = new WindowedPublisher({
          port: broker.port,
          clientId: 'crash-pub',
          window: WINDOW,
          source: (function* () {
            for (const item of traffic(() => killed)) {
              if (item.topic === COUNTER) lastSentCounter = item.id;
              else lastSentMessage = item.id;
              yield item;
            }
          })(),
          onAck: (item, ack) => {
            if (item.id < 0) return; // an end marker
            if (item.topic === COUNTER) {
              lastAckedCounter = Math.max(lastAckedCounter, item.id);
              return;
            }
            if (ack === 'pubcomp' || ack === 'puback') completed.add(item.id);
            if (ack === 'pubcomp') return;
            acked.add(item.id);
            if (!killed && acked.size >= killAfter) {
              killed = true;
              broker.killNow();
            }
          },
        });
        const connack = await publisher.start();
        assert.equal(connack.sessionPresent, false);
        await publisher.closedByBroker(25_000);
        const ended = await broker.exited();
        assert.equal(ended.signal, 'SIGKILL', `midge ended by ${ended.signal ?? `exit code ${ended.code}`}, not by the kill`);
        const sentBeforeKill = publisher.sent;
        const ackedAtKill = new Set(acked);
        const counterAckedAtKill = lastAckedCounter;
        const counterSentAtKill = lastSentCounter;
        const killTime = Date.now();
        assert.ok(ackedAtKill.size >= killAfter);

        await broker.restart();
        const restartTime = Date.now();

        // The retained counter, before the publisher resends anything: not older than the
        // last one acknowledged, and not newer than the last one sent.
        const counter = await retainedCounter(broker.url);
        assert.ok(counter !== undefined && counter >= counterAckedAtKill, `retained counter ${counter}, last acknowledged ${counterAckedAtKill}`);
        assert.ok(counter <= counterSentAtKill, `retained counter ${counter}, last sent ${counterSentAtKill}`);

        // The publisher resumes its session and resends what was not acknowledged.
        const resumed = await publisher.resume();
        assert.equal(resumed.sessionPresent, true, 'the publisher session survived the crash');
        await publisher.settled(15_000);
        assert.equal(publisher.inFlight.size, 0);
        const sentTotal = publisher.sent;
        publisher.publishFrom(endMarkers());
        await publisher.settled(10_000);
        assert.equal(publisher.inFlight.size, 0);
        await publisher.end();
        assert.equal(await retainedCounter(broker.url), lastSentCounter, 'after the resend, the newest counter is retained');

        // The subscriber comes back and drains its session.
        const back = await connectSession(broker.url, { clientId: 'crash-sub', clean: false, protocolVersion: 4 });
        clients.push({ end: () => end(back.client) });
        assert.equal(back.connack.sessionPresent, true, '[MQTT-3.1.2-4] the subscriber session survived the crash');
        const ends = () => back.inbox.messages.filter((m) => m.payload.toString() === END).length;
        await until(() => ends() === 2, 20_000, `both end markers (have ${back.inbox.messages.length} messages)`);
        const drained = Date.now();

        const messages = back.inbox.messages;
        for (const m of messages) {
          assert.equal(m.packet.qos, m.topic === Q1 ? 1 : 2, `QoS of ${m.topic} ${m.payload.toString()}`);
        }
        const q1 = numbersOf(messages, Q1);
        const q2 = numbersOf(messages, Q2);
        const sentIds = Array.from({ length: lastSentMessage + 1 }, (_, i) => i);
        assert.equal(completed.size, sentIds.length, 'every message sent was acknowledged in the end');

        // Every message acknowledged before the kill is there.
        const q1Set = new Set(q1);
        const q2Set = new Set(q2);
        const missing = [...ackedAtKill].filter((i) => !(i % 2 === 0 ? q1Set : q2Set).has(i));
        assert.deepEqual(missing.slice(0, 20), [], `${missing.length} acknowledged messages lost, first: ${missing.slice(0, 20).join(', ')}`);

        // After the publisher's resend, every message sent is there: QoS 2 exactly once and
        // in order, QoS 1 at least once with first copies in order.
        assert.deepEqual(q2, sentIds.filter((i) => i % 2 === 1), 'QoS 2: each message exactly once, in order [MQTT-4.3.3-2]');
        const q1First = [...new Set(q1)];
        assert.deepEqual(q1First, sentIds.filter((i) => i % 2 === 0), 'QoS 1: each message at least once, in order');
        assert.equal(messages.at(-1)!.payload.toString(), END);

        const duplicates = q1.length - q1First.length;
        console.log(
          `# crash run ${run + 1} seed ${seed}: killed after ${ackedAtKill.size} acks (${sentBeforeKill} sent, ` +
            `${sentTotal} after resend); retained counter ${counter} (last acked ${counterAckedAtKill}, last sent ${counterSentAtKill}); ` +
            `${q1.length + q2.length} delivered, ${duplicates} QoS 1 duplicates; ` +
            `to kill ${killTime - started} ms, restart ${restartTime - killTime} ms, resend+drain ${drained - restartTime} ms`,
        );
      } finally {
        publisher?.destroy();
        for (const c of clients) await c.end().catch(() => undefined);
        await broker.stop('SIGTERM').catch(() => undefined);
        broker.dispose();
      }
    });
  }
});
