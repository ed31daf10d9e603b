// TLS and WebSocket listeners, with MQTT.js and a raw WebSocket (MQTT 3.1.1 section 6).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { startBrokerWithTransports, type TransportsBroker } from '../helpers/transports-broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import type { Packet } from '../../src/protocol/packets.js';
import { withTimeout } from '../helpers/wait.js';

describe('MQTT 3.1.1 over TLS and WebSocket', () => {
  let b: TransportsBroker;
  let tlsPort: number;
  let wsPort: number;
  let cert: Buffer;

  before(async () => {
    b = await startBrokerWithTransports();
    ({ tlsPort, wsPort } = b);
    cert = readFileSync(b.certFile);
  });
  after(async () => {
    await b.close();
  });

  test('TLS, WebSocket and TCP clients share topics', async () => {
    const overTls = await connect(`mqtts://127.0.0.1:${tlsPort}`, { ca: cert, servername: 'localhost' });
    const overWs = await connect(`ws://127.0.0.1:${wsPort}/mqtt`);
    const overTcp = await connect(b.url);
    const tlsInbox = new Inbox(overTls);
    const wsInbox = new Inbox(overWs);
    await subscribe(overTls, 'mixed/transport', { qos: 1 });
    await subscribe(overWs, 'mixed/transport', { qos: 1 });
    await publish(overTcp, 'mixed/transport', 'tcp', { qos: 1 });
    await publish(overWs, 'mixed/transport', 'ws', { qos: 2 });
    await publish(overTls, 'mixed/transport', 'tls', { qos: 1 });
    for (const inbox of [tlsInbox, wsInbox]) {
      assert.deepEqual((await inbox.waitFor(3)).map((m) => m.payload.toString()), ['tcp', 'ws', 'tls']);
    }
    await end(overTls, overWs, overTcp);
  });

  test('a TLS client that does not trust the certificate is refused', async () => {
    await assert.rejects(connect(`mqtts://127.0.0.1:${tlsPort}`, { rejectUnauthorized: true, ca: [] }));
  });

  const openWs = async (protocols: string[]): Promise<WebSocket> => {
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`, protocols);
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }), 5000, 'WebSocket open');
    return ws;
  };

  test('[MQTT-6.0.0-4] the WebSocket server selects the "mqtt" subprotocol', async () => {
    const ws = await openWs(['mqtt']);
    assert.equal(ws.protocol, 'mqtt');
    ws.close();
  });

  test('[MQTT-6.0.0-2] packets split across frames, and several in one frame, are read', async () => {
    const ws = await openWs(['mqtt']);
    const decoder = new PacketDecoder({ protocolVersion: 4 });
    const received: Packet[] = [];
    const two = withTimeout(new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer) => decoder.decode(data, (p) => {
        received.push(p);
        if (received.length === 3) resolve();
      }));
    }), 5000, 'CONNACK and two PINGRESP');
    const connectBytes = encodePacket({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId: 'ws-split' }, 4);
    ws.send(connectBytes.subarray(0, 5));
    ws.send(connectBytes.subarray(5));
    ws.send(Buffer.concat([encodePacket({ type: 12 }, 4), encodePacket({ type: 12 }, 4)]));
    await two;
    assert.deepEqual(received.map((p) => p.type), [2, 13, 13]);
    ws.close();
  });

  test('[MQTT-6.0.0-1] a text frame closes the connection', async () => {
    const ws = await openWs(['mqtt']);
    const closed = withTimeout(new Promise((resolve) => ws.once('close', resolve)), 5000, 'close');
    ws.send('not binary');
    await closed;
  });
});
