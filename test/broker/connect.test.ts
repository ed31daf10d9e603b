// CONNECT and CONNACK, MQTT 3.1 and 3.1.1 (sections 3.1 and 3.2).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { waitForEvent } from '../helpers/wait.js';

describe('MQTT 3.1.1 CONNECT', () => {
  let b: TestBroker;
  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-3.1.4-4][MQTT-3.2.0-1] a valid CONNECT is answered first with CONNACK 0', async () => {
    const c = await RawClient.open(b.port);
    c.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 30, clientId: 'first-connack' });
    const p = await c.next();
    assert.equal(p.type, 2);
    assert.equal(p.type === 2 && p.reasonCode, 0);
    c.close();
  });

  test('[MQTT-3.1.0-2] a second CONNECT closes the connection', async () => {
    const c = await RawClient.connect(b.port, { clientId: 'second-connect' });
    c.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId: 'second-connect' });
    await c.waitClosed();
  });

  test('a first packet other than CONNECT closes the connection without CONNACK', async () => {
    const c = await RawClient.open(b.port);
    c.send({ type: 12 });
    await c.waitClosed();
    assert.equal(c.packets.length, 0);
  });

  test('[MQTT-3.1.2-2] an unsupported protocol level gets CONNACK 0x01, then close', async () => {
    const c = await RawClient.open(b.port);
    // CONNECT with protocol level 6
    c.sendBytes([0x10, 0x0f, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3c, 0x00, 0x03, 0x61, 0x62, 0x63]);
    const p = await c.next();
    assert.equal(p.type, 2);
    assert.equal(p.type === 2 && p.reasonCode, 0x01);
    assert.equal(p.type === 2 && p.sessionPresent, false);
    await c.waitClosed();
  });

  test('[MQTT-3.1.2-3] CONNECT with the reserved flag set closes the connection without CONNACK', async () => {
    const c = await RawClient.open(b.port);
    c.sendBytes([0x10, 0x0f, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x03, 0x00, 0x3c, 0x00, 0x03, 0x61, 0x62, 0x63]);
    await c.waitClosed();
    assert.equal(c.packets.length, 0);
  });

  test('[MQTT-3.1.3-8][MQTT-3.2.2-4][MQTT-3.2.2-5] empty client id with clean session 0 gets CONNACK 0x02, then close', async () => {
    const c = await RawClient.open(b.port);
    c.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: false, keepAlive: 0, clientId: '' });
    const p = await c.next();
    assert.equal(p.type === 2 && p.reasonCode, 0x02);
    assert.equal(p.type === 2 && p.sessionPresent, false);
    await c.waitClosed();
  });

  test('[MQTT-3.1.3-6] empty client id with clean session 1 is accepted with an assigned id', async () => {
    const c = await RawClient.connect(b.port, { clientId: '', cleanStart: true });
    c.send({ type: 12 });
    assert.equal((await c.next()).type, 13);
    c.close();
  });

  test('[MQTT-3.1.3-5] client ids of 1 to 23 alphanumeric characters are accepted', async () => {
    for (const id of ['a', 'Z9', 'abcdefghijklmnopqrstuvw']) {
      const c = await RawClient.connect(b.port, { clientId: id });
      c.close();
    }
  });

  test('[MQTT-3.1.4-2] a second connection with the same client id takes over; the first is closed', async () => {
    const first = await RawClient.connect(b.port, { clientId: 'takeover' });
    const second = await RawClient.connect(b.port, { clientId: 'takeover' });
    await first.waitClosed();
    second.send({ type: 12 });
    assert.equal((await second.next()).type, 13);
    second.close();
  });

  test('[MQTT-3.2.2-1][MQTT-3.2.2-2][MQTT-3.2.2-3][MQTT-3.1.2-4] session present follows clean session and stored state', async () => {
    const a = await RawClient.open(b.port);
    a.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: false, keepAlive: 0, clientId: 'sp-check' });
    const first = await a.next();
    assert.equal(first.type === 2 && first.sessionPresent, false, 'no stored session yet');
    a.send({ type: 14 });
    await a.waitClosed();

    const again = await RawClient.open(b.port);
    again.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: false, keepAlive: 0, clientId: 'sp-check' });
    const second = await again.next();
    assert.equal(second.type === 2 && second.sessionPresent, true, 'stored session resumed');
    again.send({ type: 14 });
    await again.waitClosed();

    const clean = await RawClient.open(b.port);
    clean.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId: 'sp-check' });
    const third = await clean.next();
    assert.equal(third.type === 2 && third.sessionPresent, false, 'clean session never has a session present');
    clean.close();
  });

  test('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP', async () => {
    const c = await RawClient.connect(b.port);
    c.send({ type: 12 });
    c.send({ type: 12 });
    assert.equal((await c.next()).type, 13);
    assert.equal((await c.next()).type, 13);
    c.close();
  });

  test('MQTT.js connects with MQTT 3.1.1 and with MQTT 3.1 (MQIsdp)', async () => {
    const v4 = await connect(b.url, { protocolVersion: 4, clientId: 'js-v4' });
    const v3 = await connect(b.url, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'js-v3' });
    assert.ok(v4.connected && v3.connected);
    await end(v4, v3);
  });

  test('MQTT 3.1: an empty client id is rejected with CONNACK 0x02', async () => {
    const c = await RawClient.open(b.port, 3);
    c.send({ type: 1, protocolName: 'MQIsdp', protocolVersion: 3, cleanStart: true, keepAlive: 0, clientId: '' });
    const p = await c.next();
    assert.equal(p.type === 2 && p.reasonCode, 0x02);
    await c.waitClosed();
  });

  test('[MQTT-3.1.2-24] a client silent for 1.5 x keep alive is disconnected', async () => {
    const c = await RawClient.connect(b.port, { clientId: 'silent', keepAlive: 1 });
    const started = Date.now();
    await c.waitClosed(4000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400, `closed after ${elapsed} ms, before 1.5 x keep alive`);
  });

  test('[MQTT-3.1.2-24] a client that keeps pinging inside keep alive stays connected', async () => {
    const c = await RawClient.connect(b.port, { clientId: 'pinger', keepAlive: 1 });
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 600));
      c.send({ type: 12 });
      assert.equal((await c.next()).type, 13);
    }
    assert.equal(c.closed, false);
    c.close();
  });

  test('MQTT.js client is closed when taken over (close event)', async () => {
    const one = await connect(b.url, { clientId: 'js-takeover' });
    const closed = waitForEvent(one, 'close');
    const two = await connect(b.url, { clientId: 'js-takeover' });
    await closed;
    await end(two);
    one.end(true);
  });
});
