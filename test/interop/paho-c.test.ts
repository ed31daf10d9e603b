// Eclipse Paho C (Debian libpaho-mqtt-dev, the synchronous MQTTClient library) against Midge,
// as MQTT 3.1, 3.1.1 and 5.0 clients on the same topics, over TCP, TLS and WebSocket. The client
// is test/interop/paho-c/script-client.c, built here with the system's C compiler; each run is a
// script of steps (connect, sub, pub, recv, ...) and prints one line per outcome.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrokerWithTransports, type TransportsBroker } from '../helpers/transports-broker.js';
import { connect, end, publish } from '../helpers/mqttjs.js';
import { Program } from '../helpers/process.js';
import { until } from '../helpers/wait.js';

/** A "msg topic=.. qos=.. retained=.. dup=.. payload=.. [props]" line, parsed. */
interface Received {
  topic: string;
  qos: number;
  retained: number;
  payload: string;
  props: string[];
}

function received(p: Program): Received[] {
  return p.lines
    .filter((l) => l.startsWith('msg '))
    .map((l) => {
      const words = l.split(' ').slice(1);
      const get = (k: string): string => (words.find((w) => w.startsWith(`${k}=`)) ?? `${k}=`).slice(k.length + 1);
      return {
        topic: get('topic'),
        qos: Number(get('qos')),
        retained: Number(get('retained')),
        payload: get('payload'),
        props: words.filter((w) => /^(uprop|expiry|response|corr|subid)=/.test(w)),
      };
    });
}

describe('Paho C (MQTT 3.1, 3.1.1 and 5.0) against Midge', () => {
  let b: TransportsBroker;
  let dir: string;
  let client: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-paho-c-'));
    client = join(dir, 'script-client');
    execFileSync('cc', ['-O1', '-Wall', '-o', client, 'test/interop/paho-c/script-client.c', '-lpaho-mqtt3cs']);
    b = await startBrokerWithTransports();
  });
  after(async () => {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tcp = (): string => `tcp://127.0.0.1:${b.port}`;
  /** Runs the Paho C client through `steps`; `{uri}` in a step becomes the broker's TCP address. */
  const paho = (...steps: string[]): Program => Program.start(client, steps.map((s) => s.replaceAll('{uri}', tcp())));
  const finished = async (p: Program): Promise<void> => {
    assert.equal(await p.waitExit(), 0, `paho client failed: ${JSON.stringify(p.lines)}`);
  };
  const hasSubscription = (clientId: string, filter: string): boolean => {
    const session = b.broker.core.sessions.get(clientId);
    return session?.client !== undefined && session.subscriptions.has(filter);
  };

  test('[MQTT-3.8.4-6][MQTT-4.3.3-2] (3.1.1) and [MQTT-3.8.4-8] (5.0): 3.1, 3.1.1 and 5.0 Paho C subscribers get a 3.1 publisher\'s QoS 0, 1 and 2 in order, at the lower of the two QoS', async () => {
    const subs = (['31', '311', '5'] as const).map((v) =>
      paho(`connect uri={uri} v=${v} id=pc-mix-sub-${v}`, 'sub filter=pc/mix/+ qos=1', 'recv n=3 ms=5000', 'disconnect'));
    for (const v of ['31', '311', '5']) await until(() => hasSubscription(`pc-mix-sub-${v}`, 'pc/mix/+'), 5000, `subscriber ${v}`);
    const pub = paho('connect uri={uri} v=31 id=pc-mix-pub', 'pub topic=pc/mix/a qos=0 payload=zero', 'pub topic=pc/mix/a qos=1 payload=one',
      'pub topic=pc/mix/a qos=2 payload=two', 'disconnect');
    await finished(pub);
    for (const sub of subs) {
      await finished(sub);
      assert.deepEqual(sub.lines.filter((l) => l.startsWith('subscribed')), ['subscribed granted=1']);
      assert.deepEqual(received(sub).map((m) => [m.topic, m.qos, m.retained, m.payload]), [
        ['pc/mix/a', 0, 0, 'zero'],
        ['pc/mix/a', 1, 0, 'one'],
        ['pc/mix/a', 1, 0, 'two'],
      ]);
    }
  });

  test('[MQTT-3.3.1-5][MQTT-3.3.1-6][MQTT-3.3.1-8][MQTT-3.3.1-10][MQTT-3.3.1-11] (3.1.1) and [MQTT-3.3.1-9][MQTT-3.3.1-6] (5.0): a retained value set by Paho C 3.1.1 reaches late 3.1 and 5.0 subscribers with RETAIN 1, and an empty one clears it', async () => {
    await finished(paho('connect uri={uri} v=311 id=pc-ret-pub', 'pub topic=pc/ret/status qos=1 retain=1 payload=online', 'disconnect'));
    for (const v of ['31', '5']) {
      const late = paho(`connect uri={uri} v=${v} id=pc-ret-late-${v}`, 'sub filter=pc/ret/# qos=1', 'recv n=1 ms=5000', 'disconnect');
      await finished(late);
      assert.deepEqual(received(late).map((m) => [m.topic, m.qos, m.retained, m.payload]), [['pc/ret/status', 1, 1, 'online']]);
    }
    // A live subscriber sees the clearing PUBLISH forwarded with RETAIN 0 (3.1.1 [MQTT-3.3.1-9]
    // as well), and nothing is retained afterwards.
    const live = paho('connect uri={uri} v=311 id=pc-ret-live', 'sub filter=pc/ret/status qos=1', 'recv n=2 ms=5000', 'disconnect');
    await until(() => hasSubscription('pc-ret-live', 'pc/ret/status'), 5000, 'live subscriber');
    await finished(paho('connect uri={uri} v=311 id=pc-ret-clear', 'pub topic=pc/ret/status qos=1 retain=1', 'disconnect'));
    await finished(live);
    assert.deepEqual(received(live).map((m) => [m.retained, m.payload]), [[1, 'online'], [0, '']]);
    assert.equal(b.broker.core.retained.get('pc/ret/status'), undefined);
    const after = paho('connect uri={uri} v=5 id=pc-ret-after', 'sub filter=pc/ret/# qos=1', 'none ms=300', 'disconnect');
    await finished(after);
    assert.deepEqual(received(after), []);
  });

  test('[MQTT-3.1.2-8][MQTT-3.1.2-17] (3.1.1): the retained will of a Paho C 3.1 client that dies without DISCONNECT is published, and a later subscriber finds it', async () => {
    const watcher = paho('connect uri={uri} v=311 id=pc-will-watch', 'sub filter=pc/will/+ qos=1', 'recv n=1 ms=5000', 'disconnect');
    await until(() => hasSubscription('pc-will-watch', 'pc/will/+'), 5000, 'watcher');
    const victim = paho('connect uri={uri} v=31 id=pc-will-victim will=pc/will/victim willmsg=gone willqos=1 willretain=1', 'crash');
    await finished(victim);
    assert.deepEqual(victim.lines, ['connected rc=0 session=-', 'crashing']);
    await finished(watcher);
    assert.deepEqual(received(watcher).map((m) => [m.topic, m.qos, m.payload]), [['pc/will/victim', 1, 'gone']]);
    const late = paho('connect uri={uri} v=5 id=pc-will-late', 'sub filter=pc/will/victim qos=1', 'recv n=1', 'disconnect');
    await finished(late);
    assert.deepEqual(received(late).map((m) => [m.retained, m.payload]), [[1, 'gone']]);
  });

  test('[MQTT-3.1.2-8] (3.1.1): a Paho C client that disconnects cleanly leaves no will', async () => {
    const watcher = await connect(b.url);
    const seen: string[] = [];
    watcher.on('message', (topic) => seen.push(topic));
    await new Promise<void>((resolve, reject) => watcher.subscribe('pc/clean-will', { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    await finished(paho('connect uri={uri} v=311 id=pc-clean-will will=pc/clean-will willmsg=no willqos=1', 'disconnect'));
    // A marker published after the DISCONNECT arrives after any will would have.
    await publish(watcher, 'pc/clean-will', 'marker', { qos: 1 });
    await until(() => seen.length >= 1, 5000, 'marker');
    assert.deepEqual(seen, ['pc/clean-will']);
    await end(watcher);
  });

  test('[MQTT-3.1.2-4][MQTT-3.1.2-5][MQTT-3.2.2-2] (3.1.1) and [MQTT-3.1.2-5][MQTT-3.2.2-3][MQTT-3.1.2-23] (5.0): Paho C persistent sessions get what was published while they were away', async () => {
    for (const v of ['311', '5']) {
      const id = `pc-persist-${v}`;
      const keep = v === '5' ? ' expiry=60' : '';
      const first = paho(`connect uri={uri} v=${v} id=${id} clean=0${keep}`, `sub filter=pc/persist/${v} qos=1`, 'disconnect');
      await finished(first);
      // Paho C reports Session Present for 3.1.1 only; for 5.0 the queued message shows it.
      const session = (present: number): string => `connected rc=0 session=${v === '5' ? '-' : present}`;
      assert.equal(first.lines[0], session(0));
      const publisher = await connect(b.url);
      await publish(publisher, `pc/persist/${v}`, 'while-away', { qos: 1 });
      await end(publisher);
      const back = paho(`connect uri={uri} v=${v} id=${id} clean=0${keep}`, 'recv n=1 ms=5000', 'disconnect');
      await finished(back);
      assert.equal(back.lines[0], session(1));
      assert.deepEqual(received(back).map((m) => [m.qos, m.payload]), [[1, 'while-away']]);
      // Clean start / clean session drops it again.
      const fresh = paho(`connect uri={uri} v=${v} id=${id} clean=1`, 'disconnect');
      await finished(fresh);
      assert.equal(fresh.lines[0], session(0));
    }
  });

  test('[MQTT-3.3.2-15][MQTT-3.3.2-16][MQTT-3.3.2-17][MQTT-3.3.2-6] (5.0): Paho C 5.0 properties reach a Paho C 5.0 subscriber unchanged; a 3.1.1 subscriber gets the message without them', async () => {
    const v5 = paho('connect uri={uri} v=5 id=pc-props-5', 'sub filter=pc/props qos=1', 'recv n=1 ms=5000', 'disconnect');
    const v311 = paho('connect uri={uri} v=311 id=pc-props-311', 'sub filter=pc/props qos=1', 'recv n=1 ms=5000', 'disconnect');
    await until(() => hasSubscription('pc-props-5', 'pc/props') && hasSubscription('pc-props-311', 'pc/props'), 5000, 'subscribers');
    await finished(paho('connect uri={uri} v=5 id=pc-props-pub', 'pub topic=pc/props qos=1 payload=req uprop=unit:celsius expiry=120 response=pc/reply corr=id42', 'disconnect'));
    await finished(v5);
    await finished(v311);
    const [m] = received(v5);
    assert.equal(m.payload, 'req');
    assert.deepEqual(m.props.filter((p) => !p.startsWith('expiry=')).sort(), ['corr=id42', 'response=pc/reply', 'uprop=unit:celsius']);
    // Forwarded at once, so at most a second of the 120 has gone.
    const expiry = Number(m.props.find((p) => p.startsWith('expiry='))?.slice(7));
    assert.ok(expiry >= 119 && expiry <= 120, `expiry ${expiry}`);
    assert.deepEqual(received(v311).map((r) => [r.payload, r.props]), [['req', []]]);
  });

  test('[MQTT-3.8.3-3] (5.0): a Paho C 5.0 subscription with No Local does not get its own messages back, and others still get them', async () => {
    const other = paho('connect uri={uri} v=5 id=pc-nolocal-other', 'sub filter=pc/nolocal qos=1', 'recv n=1 ms=5000', 'disconnect');
    await until(() => hasSubscription('pc-nolocal-other', 'pc/nolocal'), 5000, 'other subscriber');
    const self = paho('connect uri={uri} v=5 id=pc-nolocal-self', 'sub filter=pc/nolocal qos=1 nolocal=1', 'pub topic=pc/nolocal qos=1 payload=mine', 'none ms=300', 'disconnect');
    await finished(self);
    await finished(other);
    assert.deepEqual(received(other).map((m) => m.payload), ['mine']);
  });

  test('Paho C over TLS (ssl://, server certificate checked) and WebSocket (ws://), 3.1.1 and 5.0, on the same topic as TCP', async () => {
    const overTls = paho(`connect uri=ssl://127.0.0.1:${b.tlsPort} v=311 id=pc-tls ca=${b.certFile}`, 'sub filter=pc/transport qos=1', 'recv n=1 ms=5000', 'disconnect');
    const overWs = paho(`connect uri=ws://127.0.0.1:${b.wsPort}/mqtt v=5 id=pc-ws`, 'sub filter=pc/transport qos=1', 'recv n=1 ms=5000', 'disconnect');
    await until(() => hasSubscription('pc-tls', 'pc/transport') && hasSubscription('pc-ws', 'pc/transport'), 5000, 'TLS and WebSocket subscribers');
    await finished(paho('connect uri={uri} v=31 id=pc-transport-pub', 'pub topic=pc/transport qos=1 payload=across', 'disconnect'));
    for (const p of [overTls, overWs]) {
      await finished(p);
      assert.deepEqual(received(p).map((m) => m.payload), ['across']);
    }
    // A certificate the client does not trust fails the handshake.
    const untrusted = paho(`connect uri=ssl://127.0.0.1:${b.tlsPort} v=311 id=pc-untrusted ca=/etc/ssl/certs/ca-certificates.crt`);
    assert.notEqual(await untrusted.waitExit(), 0);
    assert.match(untrusted.lines.join('\n'), /^error connect rc=/m);
  });
});
