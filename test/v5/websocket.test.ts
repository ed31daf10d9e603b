// MQTT 5.0 over WebSocket (section 6): subprotocol "mqtt", binary frames only, packets split
// across frames and several packets in one frame.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { withTimeout } from '../helpers/wait.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import type { Packet } from '../../src/protocol/packets.js';
import { connectPacket, subscription } from '../helpers/v5.js';

/** A 5.0 client on a raw WebSocket: sends frames as given, decodes what comes back. */
class WsClient {
  readonly packets: Packet[] = [];
  closed = false;
  private waiters: (() => void)[] = [];
  private readonly decoder = new PacketDecoder({ protocolVersion: 5 });

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.decoder.decode(data, (p) => {
        this.packets.push(p);
      });
      this.wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  static async open(port: number, protocols: string[] = ['mqtt']): Promise<WsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, protocols);
    await withTimeout(new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }), 5000, 'WebSocket open');
    return new WsClient(ws);
  }

  frame(...packets: Packet[]): void {
    this.ws.send(Buffer.concat(packets.map((p) => encodePacket(p, 5))));
  }

  async next(): Promise<Packet> {
    await withTimeout(new Promise<void>((resolve) => {
      if (this.packets.length > 0 || this.closed) resolve();
      else this.waiters.push(resolve);
    }), 5000, 'a packet over WebSocket');
    const p = this.packets.shift();
    if (p === undefined) throw new Error('WebSocket closed');
    return p;
  }

  waitClosed(): Promise<void> {
    return withTimeout(new Promise<void>((resolve) => {
      const check = (): void => (this.closed ? resolve() : void this.waiters.push(check));
      check();
    }), 5000, 'the WebSocket to close');
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

describe('MQTT 5 over WebSocket', () => {
  let b: TestBroker;
  let wsPort: number;
  before(async () => {
    b = await startBroker();
    wsPort = (await b.broker.listenWebSocket({ port: 0, host: '127.0.0.1' })).port;
  });
  after(async () => {
    await b.close();
  });

  test('[MQTT-6.0.0-4] (v5) the broker selects the subprotocol "mqtt"', async () => {
    const c = await WsClient.open(wsPort, ['other', 'mqtt']);
    assert.equal(c.ws.protocol, 'mqtt');
    c.ws.close();
  });

  test('[MQTT-6.0.0-2] (v5) a CONNECT split across frames, and CONNECT, SUBSCRIBE and PUBLISH in one frame, are all understood', async () => {
    const split = await WsClient.open(wsPort);
    const bytes = encodePacket(connectPacket({ properties: { sessionExpiryInterval: 0, userProperties: [['a', 'b']] } }), 5);
    split.ws.send(bytes.subarray(0, 3));
    split.ws.send(bytes.subarray(3, 11));
    split.ws.send(bytes.subarray(11));
    const connack = await split.next();
    assert.equal(connack.type === 2 && connack.reasonCode, 0);
    split.ws.close();

    const batched = await WsClient.open(wsPort);
    batched.frame(
      connectPacket(),
      { type: 8, packetId: 1, subscriptions: [subscription('ws5/t', 1)] },
      { type: 3, topic: 'ws5/t', payload: Buffer.from('same frame'), qos: 1, retain: false, dup: false, packetId: 2 },
    );
    const types: number[] = [];
    let payload = '';
    for (let i = 0; i < 4; i++) {
      const p = await batched.next();
      types.push(p.type);
      if (p.type === 3) payload = p.payload.toString();
    }
    assert.deepEqual(types.slice(0, 2), [2, 9], 'CONNACK, SUBACK');
    assert.deepEqual(types.slice(2).sort(), [3, 4], 'PUBACK and the message itself');
    assert.equal(payload, 'same frame');
    batched.ws.close();
  });

  test('[MQTT-6.0.0-1] (v5) a text frame closes the connection', async () => {
    const c = await WsClient.open(wsPort);
    c.frame(connectPacket());
    assert.equal((await c.next()).type, 2);
    c.ws.send('not binary');
    await c.waitClosed();
  });

  test('(v5) MQTT.js over WebSocket and over TCP share topics with 5.0 properties', async () => {
    const overWs = await connect(`ws://127.0.0.1:${wsPort}/mqtt`, { protocolVersion: 5 });
    const inbox = new Inbox(overWs);
    await subscribe(overWs, 'ws5/mixed', { qos: 1 });
    const overTcp = await connect(b.url, { protocolVersion: 5 });
    await publish(overTcp, 'ws5/mixed', 'across', { qos: 1, properties: { contentType: 'text/plain' } });
    const [m] = await inbox.waitFor(1);
    assert.equal(m.payload.toString(), 'across');
    assert.equal(m.packet.properties?.contentType, 'text/plain');
    await end(overWs, overTcp);
  });
});
