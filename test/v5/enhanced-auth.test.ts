// Enhanced authentication with SCRAM-SHA-256, MQTT 5.0 (sections 3.15, 4.12): the AUTH exchange
// during CONNECT, re-authentication, and the failures.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type { IAuthPacket, IConnackPacket, Packet as MqttPacket } from 'mqtt-packet';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { withTimeout } from '../helpers/wait.js';
import { ScramClient, SCRAM_SHA_256 } from '../helpers/scram-client.js';
import { createScramAuthenticator, createScramCredential } from '../../src/auth/scram.js';
import type { ConnectPacket } from '../../src/protocol/packets.js';
import {
  connectPacket,
  expectAuth,
  expectDisconnect,
  expectNothingPending,
  expectPacket,
  expectPublish,
  publishRaw,
  subscribeRaw,
  subscription,
  WireLog,
} from '../helpers/v5.js';

describe('SCRAM-SHA-256 test client', () => {
  test('matches the RFC 7677 example exchange', () => {
    const client = new ScramClient('user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    assert.equal(client.clientFirst().toString(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
    assert.equal(
      client.clientFinal(serverFirst).toString(),
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    assert.equal(client.verifyServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), true);
    assert.equal(client.verifyServerFinal('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), false);
  });
});

describe('MQTT 5 enhanced authentication (SCRAM-SHA-256)', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker({
      authenticators: [createScramAuthenticator({ alice: createScramCredential('secret', 4096), 'bob,=x': createScramCredential('p@ss', 4096) })],
    });
  });
  after(async () => {
    await b.close();
  });

  /** CONNECT with SCRAM's client-first, then the broker's first answer (AUTH 0x18 expected). */
  async function beginScram(scram: ScramClient, fields: Partial<ConnectPacket> = {}): Promise<{ client: RawClient; wire: WireLog }> {
    const client = await RawClient.open(b.port, 5);
    const wire = new WireLog(client);
    client.send(connectPacket({ ...fields, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: scram.clientFirst(), ...fields.properties } }));
    return { client, wire };
  }

  /** Runs the whole SCRAM exchange of CONNECT; returns the client and the CONNACK. */
  async function scramConnect(user: string, password: string, fields: Partial<ConnectPacket> = {}) {
    const scram = new ScramClient(user, password);
    const { client, wire } = await beginScram(scram, fields);
    const challenge = await expectAuth(client);
    assert.equal(challenge.reasonCode, 0x18);
    assert.equal(challenge.properties?.authenticationMethod, SCRAM_SHA_256);
    client.send({ type: 15, reasonCode: 0x18, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: scram.clientFinal(challenge.properties!.authenticationData!) } });
    const connack = await expectPacket(client, 2);
    return { client, connack, scram, wire };
  }

  test('[MQTT-4.12.0-2][MQTT-4.12.0-5][MQTT-3.2.0-1] (v5) CONNECT, AUTH 0x18, AUTH 0x18, CONNACK 0x00 carrying the method and a server-final that proves the server knows the credential', async () => {
    const { client, connack, scram, wire } = await scramConnect('alice', 'secret');
    assert.equal(connack.reasonCode, 0);
    assert.equal(connack.properties?.authenticationMethod, SCRAM_SHA_256);
    assert.equal(scram.verifyServerFinal(connack.properties?.authenticationData), true, `server-final ${connack.properties?.authenticationData?.toString()}`);
    assert.deepEqual(wire.frames.map((f) => f[0] >> 4), [15, 2], 'AUTH, then CONNACK, nothing else before it');
    await subscribeRaw(client, subscription('scram/t', 1));
    await publishRaw(client, 'scram/t', 'authenticated', 0);
    assert.equal((await expectPublish(client)).payload.toString(), 'authenticated');
    client.close();
  });

  test('(v5) the server-first message extends the client nonce and names salt and iterations', async () => {
    const scram = new ScramClient('alice', 'secret');
    const { client } = await beginScram(scram);
    const challenge = await expectAuth(client);
    const parsed = scram.parseServerFirst(challenge.properties!.authenticationData!);
    assert.ok(parsed.nonce.startsWith(scram.clientNonce));
    assert.equal(parsed.iterations, 4096);
    assert.ok(parsed.salt.length >= 8);
    client.close();
  });

  test('(v5) a user name with "," and "=" is escaped and accepted', async () => {
    const { client, connack, scram } = await scramConnect('bob,=x', 'p@ss');
    assert.equal(connack.reasonCode, 0);
    assert.equal(scram.verifyServerFinal(connack.properties?.authenticationData), true);
    client.close();
  });

  test('[MQTT-4.12.0-4][MQTT-3.2.2-6][MQTT-3.2.2-7] (v5) a wrong password: CONNACK 0x86 and the connection closes', async () => {
    const { client, connack } = await scramConnect('alice', 'wrong');
    assert.equal(connack.reasonCode, 0x86);
    assert.equal(connack.sessionPresent, false);
    await client.waitClosed();
  });

  test('[MQTT-4.12.0-4] (v5) an unknown user goes through the same exchange and gets the same CONNACK 0x86', async () => {
    const { client, connack } = await scramConnect('mallory', 'secret');
    assert.equal(connack.reasonCode, 0x86);
    await client.waitClosed();
  });

  test('[MQTT-4.12.0-4] (v5) a client-final with another nonce: refused with CONNACK 0x80 or above', async () => {
    const scram = new ScramClient('alice', 'secret');
    const { client } = await beginScram(scram);
    const challenge = await expectAuth(client);
    const final = scram.clientFinal(challenge.properties!.authenticationData!).toString().replace(/,r=[^,]+,/, ',r=forged-nonce,');
    client.send({ type: 15, reasonCode: 0x18, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: Buffer.from(final) } });
    const connack = await expectPacket(client, 2);
    assert.ok(connack.reasonCode >= 0x80);
    await client.waitClosed();
  });

  test('[MQTT-4.12.0-1] (v5) an unsupported Authentication Method: CONNACK 0x8C (or 0x87) and close', async () => {
    const client = await RawClient.open(b.port, 5);
    client.send(connectPacket({ properties: { authenticationMethod: 'KERBEROS-9', authenticationData: Buffer.from('x') } }));
    const connack = await expectPacket(client, 2);
    assert.ok([0x8c, 0x87].includes(connack.reasonCode), `reason 0x${connack.reasonCode.toString(16)}`);
    await client.waitClosed();
  });

  test('[MQTT-3.1.2-30][MQTT-3.14.0-1] (v5) a PUBLISH before the CONNACK of enhanced authentication: closed, with no CONNACK 0x00 and no DISCONNECT', async () => {
    const scram = new ScramClient('alice', 'secret');
    const { client } = await beginScram(scram);
    await expectAuth(client);
    client.send({ type: 3, topic: 'early/t', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await client.waitClosed();
    assert.ok(client.packets.every((p) => p.type === 2 && p.reasonCode >= 0x80), `got ${JSON.stringify(client.packets)}`);
  });

  test('[MQTT-4.12.0-5] (v5) an AUTH naming another method during CONNECT: closed without CONNACK 0x00', async () => {
    const scram = new ScramClient('alice', 'secret');
    const { client } = await beginScram(scram);
    const challenge = await expectAuth(client);
    client.send({ type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: scram.clientFinal(challenge.properties!.authenticationData!) } });
    await client.waitClosed();
    assert.ok(client.packets.every((p) => p.type === 2 && p.reasonCode >= 0x80), `got ${JSON.stringify(client.packets)}`);
  });

  test('[MQTT-4.12.0-5][MQTT-4.12.0-2] (v5) re-authentication: AUTH 0x19, AUTH 0x18, AUTH 0x18, then AUTH 0x00 with a server-final that verifies; the connection carries on', async () => {
    const { client } = await scramConnect('alice', 'secret');
    const again = new ScramClient('alice', 'secret');
    client.send({ type: 15, reasonCode: 0x19, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: again.clientFirst() } });
    const challenge = await expectAuth(client);
    assert.equal(challenge.reasonCode, 0x18);
    assert.equal(challenge.properties?.authenticationMethod, SCRAM_SHA_256);
    client.send({ type: 15, reasonCode: 0x18, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: again.clientFinal(challenge.properties!.authenticationData!) } });
    const done = await expectAuth(client);
    assert.equal(done.reasonCode ?? 0, 0);
    assert.equal(done.properties?.authenticationMethod, SCRAM_SHA_256);
    assert.equal(again.verifyServerFinal(done.properties?.authenticationData), true);
    await expectNothingPending(client, 'still connected after re-authentication');
    client.close();
  });

  test('(v5) other packets keep flowing while a re-authentication is in progress', async () => {
    const { client } = await scramConnect('alice', 'secret');
    await subscribeRaw(client, subscription('reauth/flow', 0));
    const again = new ScramClient('alice', 'secret');
    client.send({ type: 15, reasonCode: 0x19, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: again.clientFirst() } });
    const challenge = await expectAuth(client);
    await publishRaw(client, 'reauth/flow', 'during', 0);
    assert.equal((await expectPublish(client)).payload.toString(), 'during');
    client.send({ type: 15, reasonCode: 0x18, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: again.clientFinal(challenge.properties!.authenticationData!) } });
    assert.equal((await expectAuth(client)).reasonCode ?? 0, 0);
    client.close();
  });

  test('[MQTT-4.12.1-2] (v5) a failed re-authentication: DISCONNECT with a failure reason, then the connection closes', async () => {
    const { client } = await scramConnect('alice', 'secret');
    const wrong = new ScramClient('alice', 'not the password');
    client.send({ type: 15, reasonCode: 0x19, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: wrong.clientFirst() } });
    const challenge = await expectAuth(client);
    client.send({ type: 15, reasonCode: 0x18, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: wrong.clientFinal(challenge.properties!.authenticationData!) } });
    const d = await expectPacket(client, 14);
    assert.ok((d.reasonCode ?? 0) >= 0x80, `reason 0x${(d.reasonCode ?? 0).toString(16)}`);
    await client.waitClosed();
  });

  test('[MQTT-4.12.1-1][MQTT-4.12.1-2] (v5) re-authentication with another method: DISCONNECT 0x82 or 0x8C', async () => {
    const { client } = await scramConnect('alice', 'secret');
    client.send({ type: 15, reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: new ScramClient('alice', 'secret').clientFirst() } });
    const d = await expectPacket(client, 14);
    assert.ok([0x82, 0x8c].includes(d.reasonCode ?? 0), `reason 0x${(d.reasonCode ?? 0).toString(16)}`);
    await client.waitClosed();
  });

  test('[MQTT-4.12.0-7] (v5) an AUTH from a client that connected without an Authentication Method: DISCONNECT 0x82', async () => {
    const client = await RawClient.open(b.port, 5);
    client.send(connectPacket());
    assert.equal((await expectPacket(client, 2)).reasonCode, 0);
    client.send({ type: 15, reasonCode: 0x19, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: new ScramClient('alice', 'secret').clientFirst() } });
    await expectDisconnect(client, 0x82);
  });

  test('[MQTT-3.15.2-2][MQTT-3.15.2-3][MQTT-3.1.2-24] (v5) AUTH and CONNACK fit the client\'s Maximum Packet Size', async () => {
    const { client, connack, wire } = await scramConnect('alice', 'secret', { properties: { maximumPacketSize: 160 } });
    assert.equal(connack.reasonCode, 0);
    for (const f of wire.frames) assert.ok(f.length <= 160, `a packet of type ${f[0] >> 4} with ${f.length} bytes`);
    client.close();
  });

  test('(v5) MQTT.js completes SCRAM through handleAuth and verifies the server', async () => {
    const scram = new ScramClient('alice', 'secret');
    const client = mqtt.connect(b.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: scram.clientFirst() },
    });
    client.handleAuth = (packet: IAuthPacket, callback: (error?: Error, packet?: MqttPacket) => void): void => {
      if (packet.reasonCode !== 0x18) return callback();
      try {
        const data = scram.clientFinal(packet.properties!.authenticationData!);
        callback(undefined, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: SCRAM_SHA_256, authenticationData: data } });
      } catch (error) {
        callback(error as Error);
      }
    };
    const connack = await withTimeout(
      new Promise<IConnackPacket>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('error', reject);
      }),
      5000,
      'MQTT.js SCRAM connect',
    );
    assert.equal(connack.reasonCode ?? 0, 0);
    assert.equal(scram.verifyServerFinal(connack.properties?.authenticationData), true);
    await client.endAsync();
  });
});
