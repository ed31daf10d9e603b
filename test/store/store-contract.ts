// One suite every Store implementation must pass (src/store/store.ts): what the broker writes
// comes back from load(), exactly, and flush() keeps its promise.

import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Store, StoredDelivery, StoredMessage, StoredSession, StoredState, StoredWill } from '../../src/store/store.js';
import type { Properties } from '../../src/protocol/packets.js';

export interface StoreFixture {
  store: Store;
  /** Closes the store and opens it again on the same data (the memory store: the same object). */
  reopen(): Promise<Store>;
  /** What a second, independent reader sees of the committed data right now. */
  peek(): Promise<StoredState>;
  cleanup(): Promise<void>;
}

/** The state as plain, ordered data, so two states compare with deepEqual. */
export function normalize(state: StoredState) {
  return {
    retained: [...state.retained].sort((a, b) => compare(a.topic, b.topic)),
    sessions: [...state.sessions].sort((a, b) => compare(a.clientId, b.clientId)),
    deliveries: [...state.deliveries].filter(([, list]) => list.length > 0).sort(([a], [b]) => compare(a, b)),
    incomingQos2: [...state.incomingQos2]
      .filter(([, ids]) => ids.length > 0)
      .map(([clientId, ids]) => [clientId, [...ids].sort((a, b) => a - b)] as const)
      .sort(([a], [b]) => compare(a, b)),
    wills: [...state.wills].sort((a, b) => compare(a.clientId, b.clientId)),
  };
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function message(topic: string, extra: Partial<StoredMessage> = {}): StoredMessage {
  return { topic, payload: Buffer.from(`payload of ${topic}`), qos: 1, retain: false, ...extra };
}

export function session(clientId: string, extra: Partial<StoredSession> = {}): StoredSession {
  return {
    clientId,
    expiryInterval: 3600,
    protocolVersion: 5,
    subscriptions: [{ topicFilter: 'a/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
    ...extra,
  };
}

export function will(clientId: string, extra: Partial<StoredWill> = {}): StoredWill {
  return {
    clientId,
    message: message(`will/${clientId}`, { payload: Buffer.from(`${clientId} is gone`), retain: true }),
    publishAt: 1_700_000_060_000,
    ...extra,
  };
}

export function delivery(seq: number, msg: StoredMessage, extra: Partial<StoredDelivery> = {}): StoredDelivery {
  return { seq, message: msg, qos: msg.qos, retain: false, ...extra };
}

/** Every property a message can carry, and the rest too: the store must not care which. */
export const allProperties: Properties = {
  payloadFormatIndicator: 1,
  messageExpiryInterval: 4_294_967_295,
  contentType: 'application/json; charset=utf-8',
  responseTopic: 'reply/to/ünïcødé/🦟',
  correlationData: Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 0x80, 0x7f]),
  subscriptionIdentifiers: [1, 268_435_455],
  sessionExpiryInterval: 0,
  assignedClientIdentifier: '',
  serverKeepAlive: 60,
  authenticationMethod: 'SCRAM-SHA-1',
  authenticationData: randomBytes(300),
  requestProblemInformation: 0,
  willDelayInterval: 10,
  requestResponseInformation: 1,
  responseInformation: 'info',
  serverReference: 'other:1883',
  reasonString: 'quote " backslash \\ newline \n nul \u0000 end',
  receiveMaximum: 65_535,
  topicAliasMaximum: 10,
  topicAlias: 3,
  maximumQoS: 1,
  retainAvailable: 0,
  userProperties: [
    ['b', '2'],
    ['a', '1'],
    ['b', 'again'],
    ['', ''],
    ['{"$b64":"AAAA"}', '🦟'],
  ],
  maximumPacketSize: 1_048_576,
  wildcardSubscriptionAvailable: 1,
  subscriptionIdentifierAvailable: 0,
  sharedSubscriptionAvailable: 1,
};

export function storeContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    const reopen = async (): Promise<StoredState> => {
      store = await fixture.reopen();
      return store.load();
    };
    /** Waits until what was written is durable, as the broker does before acknowledging. */
    const flushed = async (): Promise<void> => {
      await store.flush();
    };

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    test('a new store loads empty, and flush() is undefined with nothing written', async () => {
      assert.equal(store.flush(), undefined);
      assert.deepEqual(normalize(await store.load()), { retained: [], sessions: [], deliveries: [], incomingQos2: [], wills: [] });
    });

    test('retained messages: the latest put per topic wins, delete removes, across a reopen', async () => {
      store.putRetained(message('a', { retain: true, payload: Buffer.from('first') }));
      store.putRetained(message('b', { retain: true, qos: 0 }));
      store.putRetained(message('c', { retain: true, qos: 2, expiresAt: 1_900_000_000_123 }));
      store.putRetained(message('a', { retain: true, payload: Buffer.from('second') }));
      store.deleteRetained('b');
      store.deleteRetained('never-there');
      await flushed();
      const expected = [
        message('a', { retain: true, payload: Buffer.from('second') }),
        message('c', { retain: true, qos: 2, expiresAt: 1_900_000_000_123 }),
      ];
      assert.deepEqual(normalize(await store.load()).retained, expected);
      assert.deepEqual(normalize(await reopen()).retained, expected);

      store.putRetained(message('a', { retain: true, payload: Buffer.from('third') }));
      store.deleteRetained('c');
      await flushed();
      assert.deepEqual(normalize(await reopen()).retained, [message('a', { retain: true, payload: Buffer.from('third') })]);
    });

    test('retained topics and payloads come back byte for byte, empty payload and odd topics included', async () => {
      const topics = ['', '/', 'a//b', '$SYS/x', 'ünïcødé/🦟', 'sp ace', 'a'.repeat(1000)];
      const expected = topics.map((topic, i) => message(topic, { retain: true, payload: i === 0 ? Buffer.alloc(0) : randomBytes(i * 97) }));
      for (const m of expected) store.putRetained(m);
      await flushed();
      assert.deepEqual(normalize(await reopen()).retained, [...expected].sort((a, b) => compare(a.topic, b.topic)));
    });

    test('sessions: put replaces, optional fields round-trip, delete removes', async () => {
      const s1 = session('one', {
        expiryInterval: 0xffffffff,
        protocolVersion: 4,
        disconnectedAt: 1_700_000_000_001,
        subscriptions: [
          { topicFilter: 'x/+/y', qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2, subscriptionIdentifier: 7 },
          { topicFilter: '$share/g/#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 1 },
        ],
      });
      store.putSession(session('one'));
      store.putSession(s1);
      store.putSession(session('two', { subscriptions: [], protocolVersion: 3 }));
      store.putSession(session('three'));
      store.deleteSession('three');
      await flushed();
      const expected = [s1, session('two', { subscriptions: [], protocolVersion: 3 })];
      assert.deepEqual(normalize(await store.load()).sessions, expected);
      assert.deepEqual(normalize(await reopen()).sessions, expected);

      store.putSession(session('two', { disconnectedAt: 5 }));
      await flushed();
      assert.deepEqual(normalize(await reopen()).sessions, [s1, session('two', { disconnectedAt: 5 })]);
    });

    test('a session object changed after putSession is stored as it was when put', async () => {
      const s = session('c');
      store.putSession(s);
      s.subscriptions.push({ topicFilter: 'later', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 });
      s.expiryInterval = 1;
      await flushed();
      assert.deepEqual(normalize(await reopen()).sessions, [session('c')]);
    });

    test('deliveries: sorted by seq, updates replace, deletes remove, all fields round-trip', async () => {
      const m1 = message('t/1', { qos: 2, properties: { contentType: 'text/plain' } });
      const m2 = message('t/2', { qos: 1, retain: true, expiresAt: 1_800_000_000_000 });
      store.putSession(session('c'));
      store.putDelivery('c', delivery(30, m1, { qos: 2, subscriptionIdentifiers: [4, 2] }));
      store.putDelivery('c', delivery(10, m2, { qos: 1, retain: true }));
      store.putDelivery('c', delivery(20, m1, { qos: 1, packetId: 9, shareGroup: '$share/g/t/#' }));
      store.putDelivery('c', delivery(40, m2, { shareGroup: '$share/other/t/2' }));
      await flushed();
      assert.deepEqual(normalize(await store.load()).deliveries, [
        ['c', [
          delivery(10, m2, { qos: 1, retain: true }),
          delivery(20, m1, { qos: 1, packetId: 9, shareGroup: '$share/g/t/#' }),
          delivery(30, m1, { qos: 2, subscriptionIdentifiers: [4, 2] }),
          delivery(40, m2, { shareGroup: '$share/other/t/2' }),
        ]],
      ]);

      // Sent, then PUBREC: the same seq put again with a packet id, then released.
      store.putDelivery('c', delivery(30, m1, { qos: 2, subscriptionIdentifiers: [4, 2], packetId: 65535 }));
      await flushed();
      store.putDelivery('c', delivery(30, m1, { qos: 2, subscriptionIdentifiers: [4, 2], packetId: 65535, released: true }));
      store.deleteDelivery('c', 20);
      store.deleteDelivery('c', 999);
      store.deleteDelivery('nobody', 1);
      await flushed();
      assert.deepEqual(normalize(await reopen()).deliveries, [
        ['c', [
          delivery(10, m2, { qos: 1, retain: true }),
          delivery(30, m1, { qos: 2, subscriptionIdentifiers: [4, 2], packetId: 65535, released: true }),
          delivery(40, m2, { shareGroup: '$share/other/t/2' }),
        ]],
      ]);

      store.deleteDelivery('c', 10);
      store.deleteDelivery('c', 30);
      store.deleteDelivery('c', 40);
      await flushed();
      assert.deepEqual(normalize(await reopen()).deliveries, []);
    });

    test('a delivery object changed after putDelivery is stored as it was when put', async () => {
      const m = message('t');
      const d = delivery(1, m);
      store.putDelivery('c', d);
      d.packetId = 5;
      d.released = true;
      await flushed();
      assert.deepEqual(normalize(await reopen()).deliveries, [['c', [delivery(1, m)]]]);
    });

    test('one message shared by many deliveries and clients comes back for each of them', async () => {
      const shared = message('fan/out', { qos: 2, payload: randomBytes(500), properties: { userProperties: [['k', 'v']] } });
      for (let c = 0; c < 50; c++) {
        store.putDelivery(`c${c}`, delivery(1, shared));
        store.putDelivery(`c${c}`, delivery(2, shared, { qos: 1 }));
      }
      await flushed();
      for (let c = 0; c < 50; c += 2) store.deleteDelivery(`c${c}`, 1);
      await flushed();
      for (let c = 0; c < 50; c += 2) store.deleteDelivery(`c${c}`, 2);
      await flushed();
      // Put again after every earlier reference to the message was deleted.
      store.putDelivery('c0', delivery(3, shared));
      await flushed();
      const state = normalize(await reopen());
      const expected: [string, StoredDelivery[]][] = [['c0', [delivery(3, shared)]]];
      for (let c = 1; c < 50; c += 2) expected.push([`c${c}`, [delivery(1, shared), delivery(2, shared, { qos: 1 })]]);
      assert.deepEqual(state.deliveries, expected.sort(([a], [b]) => compare(a, b)));
    });

    test('incoming QoS 2 packet ids: put is idempotent, delete removes', async () => {
      store.putIncomingQos2('a', 7);
      store.putIncomingQos2('a', 3);
      store.putIncomingQos2('a', 7);
      store.putIncomingQos2('b', 65535);
      store.putIncomingQos2('b', 1);
      store.deleteIncomingQos2('b', 1);
      store.deleteIncomingQos2('b', 2);
      store.deleteIncomingQos2('nobody', 2);
      await flushed();
      assert.deepEqual(normalize(await store.load()).incomingQos2, [['a', [3, 7]], ['b', [65535]]]);
      store.deleteIncomingQos2('b', 65535);
      store.putIncomingQos2('a', 1);
      await flushed();
      assert.deepEqual(normalize(await reopen()).incomingQos2, [['a', [1, 3, 7]]]);
    });

    test('deleteSession also deletes its deliveries and incoming ids, and nothing of other clients', async () => {
      const m = message('t');
      for (const id of ['gone', 'kept']) {
        store.putSession(session(id));
        store.putDelivery(id, delivery(1, m));
        store.putDelivery(id, delivery(2, m, { packetId: 2 }));
        store.putIncomingQos2(id, 11);
      }
      await flushed();
      store.deleteSession('gone');
      await flushed();
      const state = normalize(await reopen());
      assert.deepEqual(state.sessions, [session('kept')]);
      assert.deepEqual(state.deliveries, [['kept', [delivery(1, m), delivery(2, m, { packetId: 2 })]]]);
      assert.deepEqual(state.incomingQos2, [['kept', [11]]]);
    });

    test('wills: one per client, put replaces, delete removes, every field round-trips across a reopen', async () => {
      const full = will('a', {
        message: message('will/a', {
          qos: 2,
          retain: true,
          payload: randomBytes(300),
          properties: allProperties,
          expiresAt: 1_900_000_000_000,
        }),
        publishAt: 1_800_000_000_123,
      });
      store.putWill(will('a'));
      store.putWill(full);
      store.putWill(will('b', { message: message('will/b', { qos: 0, payload: Buffer.alloc(0) }) }));
      store.putWill(will('c'));
      store.deleteWill('c');
      store.deleteWill('nobody');
      await flushed();
      const expected = [full, will('b', { message: message('will/b', { qos: 0, payload: Buffer.alloc(0) }) })];
      assert.deepEqual(normalize(await store.load()).wills, expected);
      const state = normalize(await reopen());
      assert.deepEqual(state.wills, expected);
      const loaded = state.wills[0]!.message.properties!;
      assert.ok(Buffer.isBuffer(loaded.correlationData) && Buffer.isBuffer(loaded.authenticationData));

      store.putWill(will('b', { publishAt: 5 }));
      store.deleteWill('a');
      await flushed();
      assert.deepEqual(normalize(await reopen()).wills, [will('b', { publishAt: 5 })]);
      store.deleteWill('b');
      await flushed();
      assert.deepEqual(normalize(await reopen()).wills, []);
    });

    test('a will outlives its session: deleteSession leaves it, in the same turn or later', async () => {
      store.putSession(session('gone'));
      store.putDelivery('gone', delivery(1, message('t')));
      store.putWill(will('gone'));
      await flushed();
      store.deleteSession('gone');
      await flushed();
      // Put and its session ended in one turn, both orders.
      store.putWill(will('same-turn'));
      store.putSession(session('same-turn'));
      store.deleteSession('same-turn');
      store.putSession(session('other-order'));
      store.deleteSession('other-order');
      store.putWill(will('other-order'));
      await flushed();
      const state = normalize(await reopen());
      assert.deepEqual(state.sessions, []);
      assert.deepEqual(state.deliveries, []);
      assert.deepEqual(state.wills, [will('gone'), will('other-order'), will('same-turn')]);
    });

    test('a will put and deleted in one turn is gone; deleted and put again is there', async () => {
      store.putWill(will('x'));
      store.putWill(will('y'));
      await flushed();
      store.putWill(will('x', { publishAt: 1 }));
      store.deleteWill('x');
      store.deleteWill('y');
      store.putWill(will('y', { publishAt: 2 }));
      await flushed();
      assert.deepEqual(normalize(await reopen()).wills, [will('y', { publishAt: 2 })]);
    });

    test('a will object changed after putWill is stored as it was when put', async () => {
      const w = will('c');
      store.putWill(w);
      w.publishAt = 1;
      w.message.topic = 'changed';
      w.message.qos = 0;
      w.message.properties = { contentType: 'later' };
      await flushed();
      assert.deepEqual(normalize(await reopen()).wills, [will('c')]);
    });

    test('writes for a client after deleteSession in the same turn survive; writes before it do not', async () => {
      const m = message('t');
      store.putSession(session('x'));
      store.putDelivery('x', delivery(1, m));
      store.putIncomingQos2('x', 1);
      await flushed();
      // One turn: the old session ends, a new one starts with its own state.
      store.putDelivery('x', delivery(2, m));
      store.putIncomingQos2('x', 2);
      store.deleteSession('x');
      store.putSession(session('x', { expiryInterval: 5 }));
      store.putDelivery('x', delivery(3, m));
      store.putIncomingQos2('x', 3);
      await flushed();
      const state = normalize(await reopen());
      assert.deepEqual(state.sessions, [session('x', { expiryInterval: 5 })]);
      assert.deepEqual(state.deliveries, [['x', [delivery(3, m)]]]);
      assert.deepEqual(state.incomingQos2, [['x', [3]]]);

      // Put then delete in one turn: nothing remains.
      store.putSession(session('y'));
      store.putDelivery('y', delivery(1, m));
      store.deleteSession('y');
      await flushed();
      assert.deepEqual(normalize(await reopen()).sessions, [session('x', { expiryInterval: 5 })]);
    });

    test('a delivery put and deleted in one turn is gone; deleted and put again is there', async () => {
      const m = message('t');
      store.putDelivery('c', delivery(1, m));
      store.putDelivery('c', delivery(2, m));
      await flushed();
      store.putDelivery('c', delivery(1, m, { packetId: 1 }));
      store.deleteDelivery('c', 1);
      store.putDelivery('c', delivery(3, m));
      store.deleteDelivery('c', 3);
      store.deleteDelivery('c', 2);
      store.putDelivery('c', delivery(2, m, { packetId: 4 }));
      store.putRetained(message('r'));
      store.deleteRetained('r');
      store.deleteRetained('s');
      store.putRetained(message('s'));
      await flushed();
      const state = normalize(await reopen());
      assert.deepEqual(state.deliveries, [['c', [delivery(2, m, { packetId: 4 })]]]);
      assert.deepEqual(state.retained, [message('s')]);
    });

    test('properties round-trip exactly: every kind, Buffers, user properties in order', async () => {
      const withAll = message('p/all', { properties: allProperties });
      const withEmpty = message('p/empty', { properties: {} });
      const withOne = message('p/one', { properties: { correlationData: Buffer.alloc(0) } });
      const without = message('p/none');
      for (const m of [withAll, withEmpty, withOne, without]) store.putRetained(m);
      store.putDelivery('c', delivery(1, withAll));
      store.putDelivery('c', delivery(2, withOne));
      await flushed();
      const state = normalize(await reopen());
      assert.deepEqual(state.retained, [withAll, withEmpty, without, withOne]);
      assert.deepEqual(state.deliveries, [['c', [delivery(1, withAll), delivery(2, withOne)]]]);
      const loaded = state.retained[0]!.properties!;
      assert.ok(Buffer.isBuffer(loaded.correlationData) && Buffer.isBuffer(loaded.authenticationData));
      assert.deepEqual(loaded.userProperties, allProperties.userProperties);
    });

    test('1 MiB payloads, retained and queued', async () => {
      const big = message('big', { payload: randomBytes(1024 * 1024), qos: 2 });
      const bigRetained = message('big/retained', { payload: randomBytes(1024 * 1024 + 1), retain: true });
      store.putRetained(bigRetained);
      store.putDelivery('c', delivery(1, big));
      await flushed();
      const state = normalize(await reopen());
      assert.equal(state.retained[0]!.payload.length, 1024 * 1024 + 1);
      assert.ok(state.retained[0]!.payload.equals(bigRetained.payload));
      assert.ok(state.deliveries[0]![1][0]!.message.payload.equals(big.payload));
    });

    test('many rows over many turns come back exactly', async () => {
      // Payload sizes around every boundary a store might chunk on, random bytes throughout.
      const sizes = [0, 1, 2, 255, 4095, 4096, 4097, 10_000, 65_536];
      const retained = new Map<string, StoredMessage>();
      for (let i = 0; i < 25_000; i++) {
        const m = message(`r/${i % 7}/${i}`, {
          payload: randomBytes(i < sizes.length ? sizes[i]! : i % 53),
          qos: (i % 3) as 0 | 1 | 2,
          retain: true,
        });
        if (i % 11 === 0) m.properties = { userProperties: [['i', String(i)]], correlationData: randomBytes(i % 5) };
        if (i % 13 === 0) m.expiresAt = 1_700_000_000_000 + i;
        retained.set(m.topic, m);
        store.putRetained(m);
        if (i % 5000 === 4999) await nextTurn();
      }
      for (let i = 0; i < 25_000; i += 10) {
        store.deleteRetained(`r/${i % 7}/${i}`);
        retained.delete(`r/${i % 7}/${i}`);
      }
      const deliveries = new Map<string, StoredDelivery[]>();
      const sessions: StoredSession[] = [];
      for (let c = 0; c < 200; c++) {
        const clientId = `client/${c}`;
        sessions.push(session(clientId, { disconnectedAt: c }));
        store.putSession(sessions[sessions.length - 1]!);
        const list: StoredDelivery[] = [];
        for (let seq = 0; seq < 20; seq++) {
          const d = delivery(seq, message(`q/${(c * 20 + seq) % 97}`, { payload: randomBytes(seq * 3) }), { packetId: seq + 1 });
          list.push(d);
          store.putDelivery(clientId, d);
        }
        deliveries.set(clientId, list);
        if (c % 50 === 49) await nextTurn();
      }
      await flushed();
      const expected = normalize({ retained: [...retained.values()], sessions, deliveries, backlog: new Map(), incomingQos2: new Map(), wills: [] });
      assert.deepEqual(normalize(await store.load()), expected);
      assert.deepEqual(normalize(await reopen()), expected);
    });

    describe('paged queues: load({ leaveQueued }) and readQueued()', () => {
      /** c: seq 1-3 queued, 4 in flight, 5-9 queued; other: seq 1 queued. */
      const fill = (): StoredMessage[] => {
        const msgs = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((seq) => message(`q/${seq}`, { payload: Buffer.alloc(seq * 10, seq) }));
        store.putSession(session('c'));
        for (const m of msgs) {
          const seq = Number(m.topic.slice(2));
          store.putDelivery('c', delivery(seq, m, seq === 4 ? { packetId: 77, shareGroup: '$share/g/q/#' } : seq === 7 ? { subscriptionIdentifiers: [3] } : seq === 8 ? { shareGroup: '$share/g/q/#' } : {}));
        }
        store.putDelivery('other', delivery(1, msgs[0]!));
        return msgs;
      };

      test('load leaves queued deliveries in the store and counts them: count, payload bytes, last seq', async () => {
        const msgs = fill();
        await flushed();
        for (const state of [await store.load({ leaveQueued: true }), await reopen().then(() => store.load({ leaveQueued: true }))]) {
          assert.deepEqual([...state.deliveries], [['c', [delivery(4, msgs[3]!, { packetId: 77, shareGroup: '$share/g/q/#' })]]]);
          assert.deepEqual(
            [...state.backlog].sort(([a], [b]) => compare(a, b)),
            [
              ['c', { count: 8, bytes: (45 - 4) * 10, lastSeq: 9, shared: 1 }],
              ['other', { count: 1, bytes: 10, lastSeq: 1, shared: 0 }],
            ],
          );
        }
        // Without leaveQueued: everything, as before.
        assert.equal((await store.load()).deliveries.get('c')!.length, 9);
        assert.equal((await store.load()).backlog.size, 0);
      });

      test('readQueued pages through queued deliveries in seq order, skipping in-flight ones', async () => {
        const msgs = fill();
        await flushed();
        const seqs = (page: StoredDelivery[]) => page.map((d) => d.seq);
        assert.deepEqual(seqs(store.readQueued('c', 0, 2)), [1, 2]);
        assert.deepEqual(seqs(store.readQueued('c', 2, 3)), [3, 5, 6]);
        assert.deepEqual(store.readQueued('c', 6, 100), [
          delivery(7, msgs[6]!, { subscriptionIdentifiers: [3] }),
          delivery(8, msgs[7]!, { shareGroup: '$share/g/q/#' }),
          delivery(9, msgs[8]!),
        ]);
        assert.deepEqual(store.readQueued('c', 9, 100), []);
        assert.deepEqual(store.readQueued('nobody', 0, 100), []);
        assert.deepEqual(store.readQueued('c', 0, 0), []);
      });

      test('queuedShareGroups names the groups of queued deliveries after a seq; readQueuedShared pages through one group', async () => {
        const msgs = fill();
        store.putDelivery('c', delivery(10, msgs[0]!, { shareGroup: '$share/h/q/+' }));
        store.putDelivery('c', delivery(11, msgs[1]!, { shareGroup: '$share/g/q/#' }));
        // Not flushed: reads see these changes too.
        assert.deepEqual(store.queuedShareGroups('c', 0).sort(), ['$share/g/q/#', '$share/h/q/+']);
        assert.deepEqual(store.queuedShareGroups('c', 10), ['$share/g/q/#']);
        assert.deepEqual(store.queuedShareGroups('c', 11), []);
        assert.deepEqual(store.queuedShareGroups('other', 0), []);
        const seqs = (page: StoredDelivery[]) => page.map((d) => d.seq);
        // Seq 4 came through g as well, but is in flight: not queued.
        assert.deepEqual(seqs(store.readQueuedShared('c', '$share/g/q/#', 0, 100)), [8, 11]);
        assert.deepEqual(store.readQueuedShared('c', '$share/g/q/#', 0, 1), [delivery(8, msgs[7]!, { shareGroup: '$share/g/q/#' })]);
        assert.deepEqual(seqs(store.readQueuedShared('c', '$share/g/q/#', 8, 100)), [11]);
        assert.deepEqual(seqs(store.readQueuedShared('c', '$share/h/q/+', 0, 100)), [10]);
        assert.deepEqual(store.readQueuedShared('c', '$share/none/q', 0, 100), []);
        await flushed();
        store.deleteDelivery('c', 8);
        assert.deepEqual(seqs(store.readQueuedShared('c', '$share/g/q/#', 0, 100)), [11]);
      });

      test('readQueued sees changes not yet flushed, and wraps each message once per page', async () => {
        const shared = message('shared', { properties: { contentType: 'x' }, expiresAt: 1_900_000_000_000 });
        store.putDelivery('c', delivery(1, shared));
        store.putDelivery('c', delivery(2, shared, { qos: 0 }));
        store.putDelivery('c', delivery(3, message('own')));
        store.deleteDelivery('c', 3);
        const wrapped: StoredMessage[] = [];
        const page = store.readQueued('c', 0, 10, (m) => {
          const copy = { ...m };
          wrapped.push(copy);
          return copy;
        });
        assert.deepEqual(page.map((d) => [d.seq, d.qos]), [[1, 1], [2, 0]]);
        assert.equal(wrapped.length, 1);
        assert.equal(page[0]!.message, wrapped[0]);
        assert.equal(page[1]!.message, wrapped[0]);
        assert.deepEqual(wrapped[0], shared);
      });
    });

    describe('flush()', () => {
      test('is undefined when idle, and after a commit once its turn has passed', async () => {
        assert.equal(store.flush(), undefined);
        store.putRetained(message('a'));
        await flushed();
        await nextTurn();
        assert.equal(store.flush(), undefined);
      });

      test('while writes are pending: one promise per turn, shared by every call in it', async () => {
        store.putRetained(message('a'));
        const first = store.flush();
        store.putSession(session('s'));
        store.putDelivery('s', delivery(1, message('b')));
        const second = store.flush();
        assert.equal(second, first);
        await first;
        store.putRetained(message('c'));
        const third = store.flush();
        // A store that writes synchronously has nothing pending: undefined every time.
        if (first === undefined) assert.equal(third, undefined);
        else assert.notEqual(third, first);
        await third;
      });

      test('resolves once every change made so far can be read by an independent reader', async () => {
        store.putRetained(message('a'));
        store.putSession(session('s'));
        store.putDelivery('s', delivery(1, message('b')));
        store.putIncomingQos2('s', 4);
        store.putWill(will('s'));
        await flushed();
        const state = normalize(await fixture.peek());
        assert.deepEqual(state.retained, [message('a')]);
        assert.deepEqual(state.sessions, [session('s')]);
        assert.deepEqual(state.deliveries, [['s', [delivery(1, message('b'))]]]);
        assert.deepEqual(state.incomingQos2, [['s', [4]]]);
        assert.deepEqual(state.wills, [will('s')]);
      });

      test('writes nobody waits on are committed too', async () => {
        store.putRetained(message('a'));
        // The SQLite store keeps a batch open for a few event-loop turns; nobody calls flush().
        for (let turn = 0; turn < 10 && normalize(await fixture.peek()).retained.length === 0; turn++) await nextTurn();
        assert.deepEqual(normalize(await fixture.peek()).retained, [message('a')]);
      });
    });

    test('close() keeps writes not yet flushed', async () => {
      store.putRetained(message('unflushed'));
      store.putSession(session('s'));
      store.putWill(will('s'));
      const state = normalize(await reopen());
      assert.deepEqual(state.retained, [message('unflushed')]);
      assert.deepEqual(state.wills, [will('s')]);
    });
  });
}
