// Midge against Mosquitto (Debian's, started here on a free port), side by side: one seeded
// random script of client operations (subscribe, unsubscribe, publish with any QoS and RETAIN,
// disconnecting or losing the connection, which sends the will, and coming back to a persistent
// session) runs against each broker. Every client's deliveries must be the same on both, up to
// what the specification leaves to the server (see `comparable`), and Midge's must be what the
// script implies (see `checkAgainstModel`). A difference is either a bug in Midge or a choice
// the comparison must learn; rerun one seed with MIDGE_DIFF_SEED.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectWithInbox, drop, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { freePort } from '../helpers/free-port.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { withTimeout } from '../helpers/wait.js';

const TOPICS = ['a/b', 'a/c', 'a/b/c', 'b/x', 'b/y', 'c'];
const FILTERS = ['a/#', 'a/+', '+/b', 'b/+', '#', 'a/b', 'a/+/c', 'c', '+', '+/+/c'];
/** Clients 0 and 1 keep persistent sessions (CleanSession 0); 2 and 3 do not. */
const CLIENTS = 4;
const PERSISTENT = (i: number): boolean => i < 2;
const OPS = 160;
const SEEDS = [...new Set([Number(process.env.MIDGE_DIFF_SEED ?? 20_261_129), 7, 99])];

type Op =
  /** `rh`: 5.0 Retain Handling (send retained messages always, only for a new subscription, never). */
  | { kind: 'sub'; client: number; filter: string; qos: 0 | 1 | 2; rh: 0 | 1 | 2 }
  | { kind: 'unsub'; client: number; filter: string }
  | { kind: 'pub'; client: number; topic: string; qos: 0 | 1 | 2; retain: boolean; payload: string }
  /** `drop`: the connection is lost without DISCONNECT, so the broker publishes its will. */
  | { kind: 'offline'; client: number; drop: boolean }
  | { kind: 'online'; client: number };

/** The will of a client's n-th connection (every connection has one). */
function willOf(client: number, n: number): { topic: string; qos: 0 | 1 | 2; retain: boolean; payload: string } {
  return { topic: TOPICS[(client + n) % TOPICS.length]!, qos: (n % 3) as 0 | 1 | 2, retain: n % 2 === 0, payload: `w${client}.${n}` };
}

/** The script: depends on the seed only, never on what a broker answers. */
function script(seed: number): Op[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const online = Array.from({ length: CLIENTS }, () => true);
  const filters = Array.from({ length: CLIENTS }, () => new Set<string>());
  const ops: Op[] = [];
  for (let i = 0; ops.length < OPS; i++) {
    const r = random();
    const client = Math.floor(random() * CLIENTS);
    const qos = pick([0, 1, 2] as const);
    if (!online[client]) {
      if (r < 0.3) {
        online[client] = true;
        ops.push({ kind: 'online', client });
      }
      continue;
    }
    if (r < 0.45) {
      // Now and then an empty retained PUBLISH, which clears the topic's retained message.
      const clear = random() < 0.08;
      ops.push({ kind: 'pub', client, topic: pick(TOPICS), qos, retain: clear || random() < 0.25, payload: clear ? '' : `m${i}` });
    } else if (r < 0.7) {
      const filter = pick(FILTERS);
      filters[client]!.add(filter);
      ops.push({ kind: 'sub', client, filter, qos, rh: pick([0, 1, 2] as const) });
    } else if (r < 0.82 && filters[client]!.size > 0) {
      const filter = pick([...filters[client]!]);
      filters[client]!.delete(filter);
      ops.push({ kind: 'unsub', client, filter });
    } else if (r < 0.92) {
      online[client] = false;
      // A clean session ends with its connection, and its subscriptions with it.
      if (!PERSISTENT(client)) filters[client]!.clear();
      ops.push({ kind: 'offline', client, drop: random() < 0.5 });
    }
  }
  return ops;
}

interface Delivery {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/**
 * MQTT.js leaves Nagle's algorithm on: a PUBACK followed by the next operation's packet would
 * wait for the broker's delayed ACK, up to 40 ms per operation.
 */
function noDelay(client: MqttClient): void {
  (client.stream as Partial<Socket>).setNoDelay?.(true);
}

/** MQTT.js's options for a protocol level: 3.1 goes by its own protocol name, MQIsdp. */
function protocol(version: 3 | 4 | 5): { protocolVersion: 3 | 4 | 5; protocolId: 'MQIsdp' | 'MQTT' } {
  return { protocolVersion: version, protocolId: version === 3 ? 'MQIsdp' : 'MQTT' };
}

/** Resolves when `client` receives `payload` on `topic` (listening from now on). */
function arrives(client: MqttClient, topic: string, payload: string, what: string): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => {
    const seen = (t: string, p: Buffer): void => {
      if (t !== topic || p.toString() !== payload) return;
      client.off('message', seen);
      resolve();
    };
    client.on('message', seen);
  }), 5000, `${what} ${payload}`);
}

/** Runs `ops` against the broker at `url`; returns each client's deliveries, sync messages left out. */
async function run(url: string, ops: Op[], version: 3 | 4 | 5, tag: string): Promise<Delivery[][]> {
  const clients: (MqttClient | undefined)[] = [];
  const inboxes: Inbox[][] = Array.from({ length: CLIENTS }, () => []);
  // Short: an MQTT 3.1 client id has at most 23 characters.
  const id = (i: number): string => `d${tag}-${i}`;
  const connections = Array.from({ length: CLIENTS }, () => -1);
  const open = async (i: number, first: boolean): Promise<void> => {
    const persistent = PERSISTENT(i);
    const will = willOf(i, ++connections[i]!);
    // Client ids are new to the broker in every run, so CleanSession 0 starts fresh: a 3.1.1
    // CleanSession 1 session would end with its first connection.
    const { client, inbox } = await connectWithInbox(url, {
      clientId: id(i),
      ...protocol(version),
      clean: !persistent,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain },
      ...(version === 5 && persistent ? { properties: { sessionExpiryInterval: 300 } } : {}),
    });
    noDelay(client);
    clients[i] = client;
    inboxes[i]!.push(inbox);
    // Each connection's own sync topic; a persistent session keeps it, a clean one asks again.
    if (first || !persistent) await subscribe(client, `sync/${id(i)}`, { qos: 2 });
  };
  const control = (await connectWithInbox(url, { clientId: `d${tag}-c`, ...protocol(version) })).client;
  noDelay(control);
  // The control client sees every message, wills included: a dropped connection's will is
  // awaited before the script goes on, as the broker publishes it when it notices the loss.
  await subscribe(control, '#', { qos: 0 });
  let syncs = 0;
  /**
   * Every online client has received everything routed before: a marker to each. It is QoS 2
   * because MQTT.js hands a QoS 2 message over at its PUBREL, and PUBRELs keep the order of the
   * PUBRECs ([MQTT-4.6.0-4]): once the marker is out, so is every QoS 2 message before it.
   */
  const barrier = async (): Promise<void> => {
    const marker = `s${++syncs}`;
    const arrived = clients.flatMap((client, i) => (client === undefined ? [] : [arrives(client, `sync/${id(i)}`, marker, `${tag} client ${i} sync`)]));
    await Promise.all(clients.flatMap((c, i) => (c === undefined ? [] : [publish(control, `sync/${id(i)}`, marker, { qos: 2 })])));
    await Promise.all(arrived);
  };
  try {
    for (let i = 0; i < CLIENTS; i++) await open(i, true);
    for (const op of ops) {
      const client = clients[op.client];
      if (op.kind === 'online') await open(op.client, false);
      else if (client === undefined) throw new Error(`script error: op on offline client ${op.client}`);
      else if (op.kind === 'sub') await subscribe(client, op.filter, version === 5 ? { qos: op.qos, rh: op.rh } : { qos: op.qos });
      else if (op.kind === 'unsub') await withTimeout(client.unsubscribeAsync(op.filter), 5000, 'UNSUBACK');
      else if (op.kind === 'pub') await publish(client, op.topic, op.payload, { qos: op.qos, retain: op.retain });
      else if (op.drop) {
        const { topic, payload } = willOf(op.client, connections[op.client]!);
        const will = arrives(control, topic, payload, `${tag} will`);
        drop(client);
        clients[op.client] = undefined;
        await will;
      } else {
        await end(client);
        clients[op.client] = undefined;
      }
      await barrier();
    }
    // Every session comes back at the end, so what waits for an offline one is delivered too.
    for (let i = 0; i < CLIENTS; i++) if (clients[i] === undefined) await open(i, false);
    await barrier();
  } finally {
    await end(control, ...clients.filter((c): c is MqttClient => c !== undefined));
  }
  return inboxes.map((list) =>
    list.flatMap((inbox) => inbox.messages)
      .filter((m) => !m.topic.startsWith('sync/'))
      .map((m) => ({ topic: m.topic, payload: m.payload.toString(), qos: m.packet.qos, retain: m.packet.retain })),
  );
}

/** MQTT topic matching, written out here as the test's own oracle (not the broker's matcher). */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/**
 * What the script implies for each client's live deliveries (those not sent because of a new
 * subscription): by payload, the QoS it must arrive with, the lower of the publish QoS and the
 * highest QoS among the client's matching subscriptions ([MQTT-3.3.5-1] in 3.1.1: all matching
 * subscriptions count, not the first), and whether the client was offline when it was published.
 */
interface Expected {
  qos: number;
  offline: boolean;
  /** The publish's place in the script. */
  index: number;
}

function expectations(ops: Op[]): Map<string, Expected>[] {
  const online = Array.from({ length: CLIENTS }, () => true);
  const subscriptions = Array.from({ length: CLIENTS }, () => new Map<string, number>());
  const out = Array.from({ length: CLIENTS }, () => new Map<string, Expected>());
  const connections = Array.from({ length: CLIENTS }, () => 0);
  // An empty payload (a retained message cleared) is not unique, so it is left to the comparison.
  const publishToAll = (pub: { topic: string; qos: number; payload: string }, index: number): void => {
    for (let i = 0; i < CLIENTS; i++) {
      const granted = [...subscriptions[i]!].filter(([filter]) => matches(filter, pub.topic)).map(([, qos]) => qos);
      if (granted.length > 0) out[i]!.set(pub.payload, { qos: Math.min(pub.qos, Math.max(...granted)), offline: !online[i], index });
    }
  };
  for (const [index, op] of ops.entries()) {
    if (op.kind === 'sub') subscriptions[op.client]!.set(op.filter, op.qos);
    else if (op.kind === 'unsub') subscriptions[op.client]!.delete(op.filter);
    else if (op.kind === 'offline') {
      online[op.client] = false;
      if (!PERSISTENT(op.client)) subscriptions[op.client]!.clear();
      // The will goes out once the connection is gone: to the client's own session too, if it
      // outlives the connection.
      if (op.drop) publishToAll(willOf(op.client, connections[op.client]!), index);
    } else if (op.kind === 'online') {
      online[op.client] = true;
      connections[op.client]!++;
    } else if (op.payload !== '') publishToAll(op, index);
  }
  return out;
}


/**
 * What both brokers must agree on, per client: which live deliveries (those not sent because of
 * a new subscription) arrive, and which retained ones come for new subscriptions with RETAIN 1
 * and at what QoS. Both are compared as sets:
 * - the order across topics and QoS levels is the server's to choose ([MQTT-4.6.0-6] (3.1.1)
 *   orders the same topic and QoS only), and MQTT.js hands a QoS 2 message over at its PUBREL,
 *   after QoS 0 and 1 ones that came later; the order the specification sets is checked against
 *   the script instead (`checkAgainstModel`);
 * - retained messages for a subscription are one per topic, in no order the specification sets.
 * Left out, as the specification leaves them to the server:
 * - how many copies overlapping subscriptions produce;
 * - QoS 0 messages for a session while it is offline (the server may keep or drop them).
 * The live deliveries' QoS is checked against the script too: Mosquitto 2.0.11 sends one copy of
 * a message that matches overlapping 3.1.1 subscriptions at the QoS of one of them, not the
 * highest, where [MQTT-3.3.5-1] asks for the highest.
 */
function comparable(deliveries: Delivery[], expected: Map<string, Expected>): { live: string[]; retained: string[] } {
  const live = new Set<string>();
  const retained = new Map<string, number>();
  for (const d of deliveries) {
    const key = `${d.topic} ${JSON.stringify(d.payload)}`;
    if (d.retain) retained.set(key, Math.max(retained.get(key) ?? 0, d.qos));
    else if (!(expected.get(d.payload)?.offline === true && expected.get(d.payload)?.qos === 0)) live.add(key);
  }
  return { live: [...live].sort(), retained: [...retained].map(([key, qos]) => `${key} qos=${qos}`).sort() };
}

/**
 * Midge's live deliveries against the script: each one due arrives, at the QoS due, nothing else
 * does, and messages of one topic and QoS arrive in the order they were published
 * ([MQTT-4.6.0-6] (3.1.1), [MQTT-4.6.0-5] (5.0)).
 */
function checkAgainstModel(deliveries: Delivery[], expected: Map<string, Expected>, client: number): void {
  const best = new Map<string, number>();
  const order = new Map<string, number>();
  for (const d of deliveries) {
    if (d.retain || d.payload === '') continue;
    best.set(d.payload, Math.max(best.get(d.payload) ?? 0, d.qos));
    const e = expected.get(d.payload);
    assert.ok(e !== undefined, `client ${client}: ${JSON.stringify(d.payload)} delivered without a matching subscription`);
    const lane = `${d.topic} qos=${d.qos}`;
    assert.ok((order.get(lane) ?? -1) <= e.index, `client ${client}: ${JSON.stringify(d.payload)} overtook a later message of ${lane}`);
    order.set(lane, e.index);
  }
  for (const [payload, qos] of best) assert.equal(qos, expected.get(payload)!.qos, `client ${client}: ${JSON.stringify(payload)} at QoS ${qos}`);
  for (const [payload, e] of expected) {
    if (!(e.offline && e.qos === 0)) assert.ok(best.has(payload), `client ${client}: ${JSON.stringify(payload)} (QoS ${e.qos}) never arrived`);
  }
}

describe('Midge and Mosquitto give every client the same deliveries for the same random script', () => {
  let midge: TestBroker;
  let mosquitto: ChildProcess;
  let mosquittoUrl: string;
  let dir: string;

  before(async () => {
    midge = await startBroker();
    dir = mkdtempSync(join(tmpdir(), 'midge-diff-'));
    const port = await freePort();
    writeFileSync(join(dir, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', 'log_dest none', ''].join('\n'));
    mosquitto = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
    mosquittoUrl = `mqtt://127.0.0.1:${port}`;
    // Ready when a client gets a CONNACK: each attempt waits for the connection's outcome, at
    // most 50 of them.
    for (let attempt = 0; ; attempt++) {
      try {
        await end((await connectWithInbox(mosquittoUrl, { clientId: 'diff-probe' })).client);
        break;
      } catch (e) {
        if (attempt >= 50) throw e;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  after(async () => {
    await midge.close();
    mosquitto.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  // Retained messages to a new subscription, RETAIN 0 on established ones, the lower QoS, and
  // messages kept for a persistent session while it is away. MQTT 3.1 has no statement ids.
  const versions = [
    { version: 3, name: '3.1', ids: '' },
    { version: 4, name: '3.1.1', ids: ' [MQTT-3.3.1-6][MQTT-3.3.1-9][MQTT-3.8.4-6][MQTT-3.1.2-5]' },
    { version: 5, name: '5.0', ids: ' [MQTT-3.3.1-9][MQTT-3.3.1-10][MQTT-3.3.1-11][MQTT-3.3.1-12][MQTT-3.8.4-8][MQTT-3.1.2-5]' },
  ] as const;
  for (const { version, name, ids } of versions) {
    for (const seed of SEEDS) {
      test(`(${name}) seed ${seed}: ${OPS} operations of 4 clients, the same deliveries from Midge and Mosquitto${ids}`, { timeout: 60_000 }, async () => {
        const ops = script(seed + version);
        const fromMidge = await run(midge.url, ops, version, `m${version}-${seed}`);
        const fromMosquitto = await run(mosquittoUrl, ops, version, `q${version}-${seed}`);
        const expected = expectations(ops);
        for (let i = 0; i < CLIENTS; i++) {
          checkAgainstModel(fromMidge[i]!, expected[i]!, i);
          assert.deepEqual(comparable(fromMidge[i]!, expected[i]!), comparable(fromMosquitto[i]!, expected[i]!), `client ${i}`);
        }
        // The script must exercise something: deliveries, retained ones among them.
        assert.ok(fromMidge.flat().length > 20, `${fromMidge.flat().length} deliveries`);
      });
    }
  }
});
