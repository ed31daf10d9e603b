// Connection churn over TCP (bare handles, and net.Socket): many raw clients at once that
// publish and then leave in every way a connection can end — DISCONNECT, a half-close, a
// reset, a close in the middle of a packet, a close before CONNECT. The broker forgets every
// one of them, publishes the wills that are due, and keeps serving: every message a publisher
// had acknowledged reaches the subscriber.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { createBroker, type MidgeBroker } from '../../src/server.js';
import { createLogger } from '../../src/broker/logger.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import type { Packet } from '../../src/protocol/packets.js';
import { connect, end, Inbox, subscribe } from '../helpers/mqttjs.js';
import { until, withTimeout } from '../helpers/wait.js';

type Ending = 'disconnect' | 'half-close' | 'reset' | 'mid-packet' | 'no-connect';
const ENDINGS: Ending[] = ['disconnect', 'half-close', 'reset', 'mid-packet', 'no-connect'];

/** One raw client: connects, publishes `count` QoS 1 messages, waits for their PUBACKs, then ends as told. */
async function churnOne(port: number, id: string, count: number, ending: Ending): Promise<number> {
  const socket: Socket = netConnect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  if (ending === 'no-connect') {
    socket.destroy();
    await closed;
    return 0;
  }
  const decoder = new PacketDecoder({ protocolVersion: 4 });
  let acked = 0;
  const packets: Packet[] = [];
  socket.on('data', (chunk: Buffer) => decoder.decode(chunk, (p) => void packets.push(p)));
  const will = { topic: 'churn/will', payload: Buffer.from(id), qos: 1 as const, retain: false };
  const out = [encodePacket({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 30, clientId: id, will }, 4)];
  for (let i = 0; i < count; i++) {
    out.push(encodePacket({ type: 3, topic: 'churn/data', payload: Buffer.from(`${id}:${i}`), qos: 1, packetId: i + 1, retain: false, dup: false }, 4));
  }
  socket.write(Buffer.concat(out));
  await withTimeout(until(() => packets.filter((p) => p.type === 4).length === count, 10_000, `${id} acks`), 11_000, `${id} acks`);
  acked = count;
  switch (ending) {
    case 'disconnect':
      socket.end(encodePacket({ type: 14, reasonCode: 0 }, 4));
      break;
    case 'half-close':
      socket.end();
      break;
    case 'reset':
      socket.resetAndDestroy();
      break;
    case 'mid-packet':
      // The first bytes of a PUBLISH, then the connection is gone.
      socket.write(Buffer.from([0x32, 0x20, 0x00, 0x0a, 0x63]));
      socket.destroy();
      break;
  }
  await withTimeout(closed, 5000, `${id} to close`);
  return acked;
}

for (const netSockets of [false, true]) {
  describe(`MQTT 3.1.1 connection churn over TCP (${netSockets ? 'net.Socket' : 'bare handle'})`, () => {
    let broker: MidgeBroker;
    let port: number;
    before(async () => {
      broker = createBroker({ logger: createLogger('silent') });
      port = (await broker.listen({ port: 0, host: '127.0.0.1', netSockets })).port;
    });
    after(() => broker.close());

    test('[MQTT-3.1.2-8][MQTT-3.14.4-3] (v3.1.1) 300 clients that end in every way: all forgotten, wills only for the ones that vanished, nothing acknowledged lost', async () => {
      const url = `mqtt://127.0.0.1:${port}`;
      const watcher = await connect(url, { clientId: `churn-watch-${netSockets}` });
      const inbox = new Inbox(watcher);
      await subscribe(watcher, ['churn/data', 'churn/will'], { qos: 1 });
      const clients = 300;
      const perClient = 5;
      const endings = Array.from({ length: clients }, (_, i) => ENDINGS[i % ENDINGS.length]);
      const acked = await Promise.all(endings.map((ending, i) => churnOne(port, `churn-${netSockets}-${i}`, perClient, ending)));
      const expectedData = acked.reduce((a, b) => a + b, 0);
      // A will for each client that connected and then vanished without DISCONNECT.
      const expectedWills = endings.filter((e) => e === 'half-close' || e === 'reset' || e === 'mid-packet').length;
      await inbox.waitFor(expectedData + expectedWills, 20_000);
      await until(() => broker.core.clients.size === 1, 10_000, 'only the watcher left');
      const data = inbox.messages.filter((m) => m.topic === 'churn/data').map((m) => m.payload.toString());
      assert.equal(new Set(data).size, expectedData, 'every acknowledged message once');
      const wills = inbox.messages.filter((m) => m.topic === 'churn/will').map((m) => m.payload.toString());
      const vanished = endings.flatMap((e, i) => (e === 'half-close' || e === 'reset' || e === 'mid-packet' ? [`churn-${netSockets}-${i}`] : []));
      assert.deepEqual([...wills].sort(), [...vanished].sort(), 'wills of exactly the clients that vanished');
      assert.equal(broker.core.sessions.size, 1, 'clean sessions end with their connections');
      await end(watcher);
    });
  });
}
