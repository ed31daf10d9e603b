// Bad input costs only the offending connection ([MQTT-4.8.0-1]); every other client goes on.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';

describe('MQTT 3.1.1 bad input', () => {
  let b: TestBroker;
  let healthySub: MqttClient;
  let healthyPub: MqttClient;
  let inbox: Inbox;
  let n = 0;

  before(async () => {
    b = await startBroker({ maximumPacketSize: 64 * 1024 });
    healthySub = await connect(b.url, { clientId: 'healthy-sub' });
    healthyPub = await connect(b.url, { clientId: 'healthy-pub' });
    inbox = new Inbox(healthySub);
    await subscribe(healthySub, 'healthy/t', { qos: 1 });
  });
  after(async () => {
    await end(healthySub, healthyPub);
    await b.close();
  });

  async function assertHealthy(): Promise<void> {
    n++;
    await publish(healthyPub, 'healthy/t', `ok-${n}`, { qos: 1 });
    const got = await inbox.waitFor(n);
    assert.equal(got[n - 1].payload.toString(), `ok-${n}`);
    assert.ok(healthySub.connected && healthyPub.connected);
  }

  const cases: { name: string; connected: boolean; bytes: number[] }[] = [
    { name: 'garbage bytes before CONNECT', connected: false, bytes: [0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02] },
    { name: '[MQTT-2.2.2-1][MQTT-2.2.2-2] PINGREQ with reserved flags set', connected: true, bytes: [0xc1, 0x00] },
    { name: '[MQTT-3.6.1-1] PUBREL with flags 0000', connected: true, bytes: [0x60, 0x02, 0x00, 0x01] },
    { name: '[MQTT-3.8.1-1] SUBSCRIBE with flags 0000', connected: true, bytes: [0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00] },
    { name: '[MQTT-3.10.1-1] UNSUBSCRIBE with flags 0000', connected: true, bytes: [0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 0x61] },
    { name: '[MQTT-3.8.3-3] SUBSCRIBE without any filter', connected: true, bytes: [0x82, 0x02, 0x00, 0x01] },
    { name: '[MQTT-3.10.3-2] UNSUBSCRIBE without any filter', connected: true, bytes: [0xa2, 0x02, 0x00, 0x01] },
    { name: '[MQTT-3.8.3-4] SUBSCRIBE with reserved bits in the requested QoS', connected: true, bytes: [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x04] },
    { name: '[MQTT-3.3.1-4] PUBLISH with QoS 3', connected: true, bytes: [0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01] },
    { name: '[MQTT-1.5.3-1] PUBLISH topic with ill-formed UTF-8', connected: true, bytes: [0x30, 0x04, 0x00, 0x02, 0xc3, 0x28] },
    { name: '[MQTT-1.5.3-1] PUBLISH topic with an encoded surrogate', connected: true, bytes: [0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80] },
    { name: '[MQTT-1.5.3-2][MQTT-4.7.3-2] PUBLISH topic containing U+0000', connected: true, bytes: [0x30, 0x05, 0x00, 0x03, 0x61, 0x00, 0x62] },
    { name: '[MQTT-3.14.1-1] DISCONNECT with reserved flags set', connected: true, bytes: [0xe1, 0x00] },
    { name: 'a remaining length of five bytes', connected: true, bytes: [0x30, 0xff, 0xff, 0xff, 0xff, 0x01] },
    { name: 'a packet larger than the maximum packet size', connected: true, bytes: [0x30, 0xff, 0xff, 0x7f] },
    { name: '[MQTT-2.3.1-1] QoS 1 PUBLISH with packet id 0', connected: true, bytes: [0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00] },
    { name: 'a CONNACK sent by a client', connected: true, bytes: [0x20, 0x02, 0x00, 0x00] },
    { name: '[MQTT-3.1.0-2] a second CONNECT', connected: true, bytes: [0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x78] },
  ];

  for (const c of cases) {
    test(`${c.name} closes that connection only`, async () => {
      const client = c.connected ? await RawClient.connect(b.port) : await RawClient.open(b.port);
      client.sendBytes(c.bytes);
      await client.waitClosed();
      await assertHealthy();
    });
  }

  test('a truncated packet followed by the peer closing loses nothing for others', async () => {
    const client = await RawClient.connect(b.port);
    client.sendBytes([0x30, 0x20, 0x00, 0x05, 0x61]);
    client.close();
    await assertHealthy();
  });

  test('a truncated CONNECT never completes and is dropped at the connect timeout', async () => {
    await b.close();
    b = await startBroker({ connectTimeoutMs: 200 });
    healthySub = await connect(b.url, { clientId: 'healthy-sub' });
    healthyPub = await connect(b.url, { clientId: 'healthy-pub' });
    inbox = new Inbox(healthySub);
    n = 0;
    await subscribe(healthySub, 'healthy/t', { qos: 1 });
    const client = await RawClient.open(b.port);
    client.sendBytes([0x10, 0x0d, 0x00, 0x04]);
    await client.waitClosed(2000);
    await assertHealthy();
  });
});

describe('MQTT 3.1.1 refused and broken connections', () => {
  test('connections that never complete CONNECT are forgotten by the broker', async () => {
    const b = await startBroker({ connectTimeoutMs: 200 });
    const garbage = await RawClient.open(b.port);
    garbage.sendBytes([0xde, 0xad]);
    const refused = await RawClient.open(b.port);
    refused.send({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: false, keepAlive: 0, clientId: '' });
    const silent = await RawClient.open(b.port);
    await Promise.all([garbage.waitClosed(), refused.waitClosed(), silent.waitClosed(2000)]);
    assert.equal(b.broker.core.clients.size, 0);
    await b.close();
  });
});
