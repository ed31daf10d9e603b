// CONNECT, CONNACK and the server's DISCONNECTs, MQTT 5.0 (sections 3.1, 3.2, 3.14, 4.13).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { waitForEvent } from '../helpers/wait.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { DisconnectPacket } from '../../src/protocol/packets.js';
import {
  connackOf,
  connectPacket,
  expectDisconnect,
  expectNothingPending,
  expectPacket,
  publishRaw,
  rawV5,
  subscribeRaw,
  subscription,
  elapse,
  uniqueId,
  WireLog,
} from '../helpers/v5.js';

describe('MQTT 5 CONNECT and CONNACK', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({
      responseInformation: 'responses/v5/',
      hooks: {
        preConnect: (_info, packet) => (packet.clientId.startsWith('reject-') ? 0x85 : !packet.clientId.startsWith('deny-')),
        authenticate: (_client, username, password) => {
          if (username === undefined) return true;
          if (username === 'banned') return 0x8a;
          return password?.toString() === 'right';
        },
      },
    });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.1.4-5][MQTT-3.2.0-1][MQTT-3.2.2-1][MQTT-3.2.2-2] (v5) an accepted CONNECT is answered first by CONNACK 0x00, flags 0, session present 0', async () => {
    const c = await RawClient.open(b.port, 5);
    const wire = new WireLog(c);
    c.send(connectPacket({ cleanStart: true }));
    const connack = await expectPacket(c, 2);
    assert.equal(connack.reasonCode, 0);
    assert.equal(connack.sessionPresent, false);
    const bytes = wire.frames[0];
    assert.equal(bytes[0], 0x20, 'CONNACK fixed header');
    assert.equal(bytes[2], 0x00, 'acknowledge flags: reserved bits 0 and session present 0');
    assert.equal(bytes[3], 0x00, 'reason code Success');
    c.close();
  });

  test('[MQTT-3.1.3-6][MQTT-3.1.3-7][MQTT-3.2.2-16] (v5) an empty client id gets a unique Assigned Client Identifier, used as the session key', async () => {
    const { client: a, connack: ca } = await connackOf(b.port, { clientId: '', properties: { sessionExpiryInterval: 60 } });
    const { client: c2, connack: cb } = await connackOf(b.port, { clientId: '' });
    const idA = ca.properties?.assignedClientIdentifier;
    const idB = cb.properties?.assignedClientIdentifier;
    assert.equal(ca.reasonCode, 0);
    assert.ok(idA !== undefined && idA.length > 0, 'assigned id in CONNACK');
    assert.ok(idB !== undefined && idB.length > 0);
    assert.notEqual(idA, idB);
    assert.ok(b.broker.core.sessions.has(idA), 'the session is kept under the assigned id');
    // The assigned id names a session the client can resume, as if it had sent that id.
    await subscribeRaw(a, subscription('assigned/t', 1));
    a.send({ type: 14, reasonCode: 0 });
    await a.waitClosed();
    const back = await rawV5(b.port, { clientId: idA, cleanStart: false, properties: { sessionExpiryInterval: 60 } });
    assert.equal(back.connack.sessionPresent, true);
    assert.equal(back.connack.properties?.assignedClientIdentifier, undefined, 'no assigned id for a client that sent one');
    back.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    c2.close();
  });

  test('[MQTT-3.1.3-5] (v5) client ids of 1 to 23 characters 0-9 a-z A-Z are accepted', async () => {
    for (const clientId of ['x', '0aZ', 'abcdefghijklmnopqrstuvw']) {
      const c = await rawV5(b.port, { clientId });
      c.close();
    }
  });

  test('[MQTT-3.1.0-2][MQTT-3.2.0-2][MQTT-4.13.1-1][MQTT-3.14.4-1][MQTT-3.14.4-2] (v5) a second CONNECT gets DISCONNECT 0x82 and the connection closes, no second CONNACK', async () => {
    const c = await rawV5(b.port);
    c.send(connectPacket());
    await expectDisconnect(c, 0x82);
    assert.equal(c.packets.length, 0, 'nothing after the DISCONNECT');
  });

  test('[MQTT-3.1.2-2] (v5) protocol level 6 is refused: at most a refusing CONNACK, then the connection closes', async () => {
    const c = await RawClient.open(b.port, 5);
    const bytes = encodePacket(connectPacket(), 5);
    bytes[8] = 6; // protocol level
    c.sendBytes(bytes);
    await c.waitClosed();
    assert.ok(
      c.packets.every((p) => p.type !== 2 || p.reasonCode !== 0),
      `no accepting CONNACK: ${JSON.stringify(c.packets)}`,
    );
    assert.ok(c.packets.length <= 1);
  });

  test('[MQTT-3.1.2-1] (v5) a protocol name other than "MQTT" is not processed as MQTT 5: no accepting CONNACK, closed', async () => {
    const c = await RawClient.open(b.port, 5);
    const bytes = encodePacket(connectPacket(), 5);
    bytes[7] = 'X'.charCodeAt(0); // "MQTX"
    c.sendBytes(bytes);
    await c.waitClosed();
    // Not MQTT 5, so any CONNACK here is not a 5.0 one (Midge answers in the 3.1.1 form, 0x01).
    assert.ok(c.packets.every((p) => p.type !== 2 || p.reasonCode !== 0), `no accepting CONNACK: ${JSON.stringify(c.packets)}`);
    assert.ok(c.packets.length <= 1);
  });

  test('[MQTT-3.1.2-3][MQTT-3.1.4-1][MQTT-3.14.0-1] (v5) CONNECT with the reserved flag set: no CONNACK 0x00 and no DISCONNECT, closed', async () => {
    const c = await RawClient.open(b.port, 5);
    const bytes = encodePacket(connectPacket(), 5);
    bytes[9] |= 0x01; // connect flags: reserved bit
    c.sendBytes(bytes);
    await c.waitClosed();
    assert.ok(c.packets.every((p) => p.type === 2 && p.reasonCode >= 0x80), `only a refusing CONNACK may come: ${JSON.stringify(c.packets)}`);
  });

  test('[MQTT-3.2.2-6][MQTT-3.2.2-7][MQTT-4.13.2-1][MQTT-3.1.4-2] (v5) a refused CONNECT gets session present 0 even with a stored session, then the connection closes', async () => {
    const clientId = uniqueId('refused');
    const first = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    first.send({ type: 14, reasonCode: 0 });
    await first.waitClosed();
    const { client, connack } = await connackOf(b.port, { clientId, cleanStart: false, username: 'alice', password: Buffer.from('wrong'), properties: { sessionExpiryInterval: 60 } });
    assert.equal(connack.reasonCode, 0x86);
    assert.equal(connack.sessionPresent, false);
    await client.waitClosed();
    assert.equal(client.packets.length, 0, 'nothing after the refusing CONNACK');
  });

  test('[MQTT-3.2.2-8][MQTT-3.1.3-8] (v5) refusals use Connect Reason Codes: 0x85 client identifier not valid, 0x87 not authorized, 0x86 bad user name or password, 0x8A banned', async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{ clientId: uniqueId('deny') }, 0x87],
      [{ clientId: uniqueId('reject') }, 0x85],
      [{ username: 'bob', password: Buffer.from('wrong') }, 0x86],
      [{ username: 'banned', password: Buffer.from('right') }, 0x8a],
    ];
    for (const [fields, code] of cases) {
      const { client, connack } = await connackOf(b.port, fields);
      assert.equal(connack.reasonCode, code, JSON.stringify(fields));
      await client.waitClosed();
    }
    const ok = await rawV5(b.port, { username: 'bob', password: Buffer.from('right') });
    ok.close();
  });

  test('[MQTT-3.1.4-6] (v5) after refusing a CONNECT the broker processes nothing else the client sent', async () => {
    const watcher = await connect(b.url, { protocolVersion: 5 });
    const inbox = new Inbox(watcher);
    await subscribe(watcher, 'refused/after', { qos: 1 });
    const c = await RawClient.open(b.port, 5);
    c.sendBytes(Buffer.concat([
      encodePacket(connectPacket({ username: 'carol', password: Buffer.from('wrong') }), 5),
      encodePacket({ type: 3, topic: 'refused/after', payload: Buffer.from('smuggled'), qos: 0, retain: false, dup: false }, 5),
    ]));
    const connack = await expectPacket(c, 2);
    assert.equal(connack.reasonCode, 0x86);
    await c.waitClosed();
    await publish(watcher, 'refused/after', 'probe', { qos: 1 });
    const [m] = await inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'probe', 'the PUBLISH behind the refused CONNECT was dropped');
    await end(watcher);
  });

  test('[MQTT-3.1.2-28] (v5) no Response Information in CONNACK unless the client requests it', async () => {
    for (const properties of [undefined, { requestResponseInformation: 0 }]) {
      const c = await rawV5(b.port, properties ? { properties } : {});
      assert.equal(c.connack.properties?.responseInformation, undefined);
      c.close();
    }
  });

  test('(v5) Request Response Information 1 is answered with the configured Response Information', async () => {
    const c = await rawV5(b.port, { properties: { requestResponseInformation: 1 } });
    assert.equal(c.connack.properties?.responseInformation, 'responses/v5/');
    c.close();
  });

  test('[MQTT-3.1.2-29] (v5) Request Problem Information 0: no Reason String or User Property on PUBACK, SUBACK, UNSUBACK', async () => {
    const c = await rawV5(b.port, { properties: { requestProblemInformation: 0 } });
    const puback = await publishRaw(c, 'rpi/t', Buffer.from([0xff, 0xfe]), 1, { payloadFormatIndicator: 1 });
    assert.equal(puback?.reasonCode, 0x99);
    assert.equal(puback?.properties?.reasonString, undefined);
    assert.equal(puback?.properties?.userProperties, undefined);
    const suback = await subscribeRaw(c, subscription('rpi/#/bad', 1));
    assert.equal(suback.reasonCodes[0], 0x8f);
    assert.equal(suback.properties?.reasonString, undefined);
    assert.equal(suback.properties?.userProperties, undefined);
    c.send({ type: 10, packetId: 77, topicFilters: ['rpi/none'] });
    const unsuback = await expectPacket(c, 11);
    assert.equal(unsuback.properties?.reasonString, undefined);
    c.close();
  });

  test('(v5) Request Problem Information 0: the broker\'s DISCONNECT and refusing CONNACK carry no Reason String', async () => {
    const c = await rawV5(b.port, { properties: { requestProblemInformation: 0 } });
    c.send(connectPacket());
    const d = await expectDisconnect(c, 0x82);
    assert.equal(d.properties?.reasonString, undefined);
    const { client, connack } = await connackOf(b.port, { username: 'dave', password: Buffer.from('wrong'), properties: { requestProblemInformation: 0 } });
    assert.equal(connack.reasonCode, 0x86);
    assert.equal(connack.properties?.reasonString, undefined);
    await client.waitClosed();
  });

  test('(v5) by default the broker\'s DISCONNECT says why in a Reason String', async () => {
    const c = await rawV5(b.port);
    c.send(connectPacket());
    const d = await expectDisconnect(c, 0x82);
    assert.equal(typeof d.properties?.reasonString, 'string');
  });

  test('[MQTT-4.12.0-6] (v5) without an Authentication Method the broker sends no AUTH and no method in CONNACK', async () => {
    const c = await rawV5(b.port);
    assert.equal(c.connack.properties?.authenticationMethod, undefined);
    assert.equal(c.connack.properties?.authenticationData, undefined);
    await expectNothingPending(c, 'no AUTH');
    c.close();
  });

  test('[MQTT-3.1.4-3][MQTT-3.1.3-2] (v5) a new connection with the same client id takes the session over: the old one gets DISCONNECT 0x8E and is closed', async () => {
    const clientId = uniqueId('takeover');
    const old = await rawV5(b.port, { clientId, properties: { sessionExpiryInterval: 60 } });
    await subscribeRaw(old, subscription('takeover/t', 1));
    const fresh = await rawV5(b.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 60 } });
    await expectDisconnect(old, 0x8e);
    assert.equal(fresh.connack.sessionPresent, true, 'the new connection has the session of the old one');
    fresh.send({ type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    await fresh.waitClosed();
  });

  test('[MQTT-3.1.4-3] (v5) MQTT.js sees the takeover as DISCONNECT 0x8E', async () => {
    const clientId = uniqueId('takeover-js');
    const old = await connect(b.url, { protocolVersion: 5, clientId });
    const disconnected = waitForEvent<[{ reasonCode?: number }]>(old, 'disconnect');
    const fresh = await connect(b.url, { protocolVersion: 5, clientId });
    const [packet] = await disconnected;
    assert.equal(packet.reasonCode, 0x8e);
    old.end(true);
    await end(fresh);
  });

  test('[MQTT-3.1.2-22][MQTT-3.2.2-22] (v5) without Server Keep Alive the client\'s keep alive holds: 1.5 s of silence gets DISCONNECT 0x8D', async () => {
    const started = Date.now();
    const c = await rawV5(b.port, { keepAlive: 1 });
    assert.equal(c.connack.properties?.serverKeepAlive, undefined);
    await expectDisconnect(c, 0x8d, 4000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400, `closed after ${elapsed} ms, before 1.5 x keep alive`);
  });

  test('[MQTT-3.12.4-1] (v5) each PINGREQ is answered by PINGRESP and keeps the connection alive', async () => {
    const c = await rawV5(b.port, { keepAlive: 1 });
    for (let i = 0; i < 3; i++) {
      await elapse(600);
      c.send({ type: 12 });
      assert.equal((await c.next()).type, 13);
    }
    assert.equal(c.closed, false, 'still connected after 1.8 s with a 1 s keep alive');
    c.close();
  });
});

describe('MQTT 5 Server Keep Alive', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({ maxKeepAlive: 1 });
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.1.2-22] (v5) maxKeepAlive caps the keep alive: CONNACK Server Keep Alive 1, and the broker enforces it', async () => {
    const started = Date.now();
    const c = await rawV5(b.port, { keepAlive: 60 });
    assert.equal(c.connack.properties?.serverKeepAlive, 1);
    await expectDisconnect(c, 0x8d, 4000);
    assert.ok(Date.now() - started >= 1400);
  });

  test('(v5) a keep alive of 0 is capped too', async () => {
    const c = await rawV5(b.port, { keepAlive: 0 });
    assert.equal(c.connack.properties?.serverKeepAlive, 1);
    c.close();
  });
});

describe('MQTT 5 server shutdown and redirection', () => {
  test('(v5) broker.close() sends DISCONNECT 0x8B server shutting down to 5.0 clients', async () => {
    const b = await startBroker();
    const c = await rawV5(b.port);
    const js = await connect(b.url, { protocolVersion: 5 });
    const jsDisconnect = waitForEvent<[DisconnectPacket]>(js, 'disconnect');
    const v4 = await RawClient.connect(b.port, { protocolVersion: 4 });
    await b.close();
    await expectDisconnect(c, 0x8b);
    assert.equal((await jsDisconnect)[0].reasonCode, 0x8b);
    await v4.waitClosed();
    assert.equal(v4.packets.length, 0, 'a 3.1.1 client gets no DISCONNECT');
    js.end(true);
  });

  for (const reasonCode of [0x9c, 0x9d]) {
    test(`(v5) redirect option: every CONNECT gets CONNACK 0x${reasonCode.toString(16)} with a Server Reference, then close`, async () => {
      const b = await startBroker({ redirect: { reasonCode: reasonCode as 0x9c | 0x9d, serverReference: 'other.example:1883' } });
      try {
        const { client, connack } = await connackOf(b.port, { properties: { sessionExpiryInterval: 10 } });
        assert.equal(connack.reasonCode, reasonCode);
        assert.equal(connack.sessionPresent, false);
        assert.equal(connack.properties?.serverReference, 'other.example:1883');
        await client.waitClosed();
        const again = await connackOf(b.port);
        assert.equal(again.connack.reasonCode, reasonCode);
        await again.client.waitClosed();
      } finally {
        await b.close();
      }
    });
  }
});
