// TCP connections served from Node's bare TCP handle (src/transport/tcp-handle.ts), and the
// net.Socket path kept for --net-sockets: the same behaviour through either, with MQTT.js and
// raw sockets for half-close, resets and a reader that falls behind.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, Socket } from 'node:net';
import { createBroker, type MidgeBroker } from '../../src/server.js';
import { createLogger } from '../../src/broker/logger.js';
import { HandleConnection, SCRAMBLED, scrambleLentReads, tcpHandleSupport } from '../../src/transport/tcp-handle.js';
import { listenTcp } from '../../src/transport/tcp.js';
import type { Broker } from '../../src/broker/broker.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import type { Packet } from '../../src/protocol/packets.js';
import { connect, end, Inbox, publish, subscribe } from '../helpers/mqttjs.js';
import { RawClient } from '../helpers/raw-client.js';
import { until, withTimeout } from '../helpers/wait.js';

/** Opens a socket, sends `packets` at once, half-closes, and collects what comes back until the broker closes. */
async function sendAndHalfClose(port: number, packets: Packet[]): Promise<Packet[]> {
  const socket = netConnect({ port, host: '127.0.0.1' });
  const decoder = new PacketDecoder({ protocolVersion: 4 });
  const received: Packet[] = [];
  socket.on('data', (chunk: Buffer) => decoder.decode(chunk, (p) => void received.push(p)));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.end(Buffer.concat(packets.map((p) => encodePacket(p, 4))));
  await withTimeout(new Promise<void>((resolve) => socket.once('close', () => resolve())), 5000, 'the broker to close');
  return received;
}

for (const mode of ['bare handle', 'net.Socket'] as const) {
  describe(`MQTT 3.1.1 over TCP served by ${mode}`, { skip: mode === 'bare handle' && !tcpHandleSupport() }, () => {
    let broker: MidgeBroker;
    let port: number;
    let url: string;

    before(async () => {
      broker = createBroker({ logger: createLogger('silent') });
      port = (await broker.listen({ port: 0, host: '127.0.0.1', netSockets: mode === 'net.Socket' })).port;
      url = `mqtt://127.0.0.1:${port}`;
    });
    after(() => broker.close());

    test('connections are of the chosen kind and MQTT.js clients talk through them', async () => {
      const sub = await connect(url, { clientId: `kind-sub-${mode}` });
      const pub = await connect(url, { clientId: `kind-pub-${mode}` });
      const client = [...broker.core.clients].find((c) => c.clientId === `kind-sub-${mode}`);
      assert.ok(client !== undefined);
      if (mode === 'bare handle') assert.ok(client.conn instanceof HandleConnection);
      else assert.ok(client.conn instanceof Socket);
      assert.equal(client.conn.remoteAddress, '127.0.0.1');
      const inbox = new Inbox(sub);
      await subscribe(sub, 'kind/t', { qos: 1 });
      await publish(pub, 'kind/t', 'one', { qos: 1 });
      await publish(pub, 'kind/t', 'two', { qos: 2 });
      assert.deepEqual((await inbox.waitFor(2)).map((m) => m.payload.toString()), ['one', 'two']);
      await end(sub, pub);
    });

    test('a client that half-closes right after its packets still gets every answer, then the close', async () => {
      const answers = await sendAndHalfClose(port, [
        { type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId: `half-${mode}` },
        { type: 8, packetId: 1, subscriptions: [{ topicFilter: 'half/t', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] },
        { type: 3, topic: 'half/t', payload: Buffer.from('x'), qos: 1, packetId: 2, retain: false, dup: false },
      ]);
      const types = answers.map((p) => p.type);
      assert.equal(types[0], 2, 'CONNACK first');
      // SUBACK, then the PUBACK and the client's own message (it subscribed), in either order.
      assert.deepEqual([...types].sort((a, b) => a - b), [2, 3, 4, 9], `answers: ${types.join(',')}`);
      assert.equal(broker.core.clients.size, 0);
    });

    test('a peer that resets its connection: the will is published and the broker goes on', async () => {
      const watcher = await connect(url, { clientId: `reset-watch-${mode}` });
      const inbox = new Inbox(watcher);
      await subscribe(watcher, 'reset/will', { qos: 1 });
      const raw = await RawClient.connect(port, { clientId: `reset-${mode}`, will: { topic: 'reset/will', payload: Buffer.from('gone'), qos: 1, retain: false } });
      raw.socket.resetAndDestroy();
      assert.equal((await inbox.waitFor(1))[0].payload.toString(), 'gone');
      await publish(watcher, 'reset/after', 'still here', { qos: 1 });
      await end(watcher);
    });

    test('a subscriber that stops reading: writes wait in the connection, then all arrive in order when it reads again', async () => {
      const sub = await RawClient.connect(port, { clientId: `slow-${mode}` });
      sub.send({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'slow/t', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
      assert.equal((await sub.next()).type, 9);
      sub.socket.pause();
      const client = [...broker.core.clients].find((c) => c.clientId === `slow-${mode}`)!;
      const pub = await connect(url, { clientId: `slow-pub-${mode}` });
      const payload = Buffer.alloc(4096, 7);
      const count = 2000; // 8 MiB: far more than the socket buffers of both ends hold
      for (let i = 0; i < count; i++) {
        payload.writeUInt32BE(i, 0);
        pub.publish('slow/t', Buffer.from(payload), { qos: 0 });
      }
      await publish(pub, 'slow/done', '', { qos: 1 });
      await until(() => client.conn.writableLength > 0, 5000, 'bytes waiting in the connection');
      sub.socket.resume();
      await until(() => sub.packets.filter((p) => p.type === 3).length >= count, 15_000, `${count} messages`);
      const seq = sub.packets.filter((p) => p.type === 3).map((p) => (p.type === 3 ? p.payload.readUInt32BE(0) : -1));
      assert.deepEqual(seq, Array.from({ length: count }, (_, i) => i));
      sub.close();
      await end(pub);
    });
  });
}

for (const netSockets of [false, true]) {
  describe(`MQTT 3.1.1 broker close with TCP served by ${netSockets ? 'net.Socket' : 'bare handle'}`, () => {
    test('close() resolves only once every client connection is closed', async () => {
      const broker = createBroker({ logger: createLogger('silent') });
      const port = (await broker.listen({ port: 0, host: '127.0.0.1', netSockets })).port;
      const clients = await Promise.all([0, 1, 2].map((i) => RawClient.connect(port, { clientId: `close-${netSockets}-${i}` })));
      const conns = [...broker.core.clients].map((c) => c.conn as unknown as { closed: boolean });
      assert.equal(conns.length, 3);
      await broker.close();
      assert.deepEqual(conns.map((c) => c.closed), [true, true, true], 'every connection closed when close() resolves');
      await Promise.all(clients.map((c) => c.waitClosed(2000)));
      assert.equal(broker.core.clients.size, 0);
    });
  });
}

describe('TCP handle reads (shared read buffer)', { skip: !tcpHandleSupport() }, () => {
  test('every read is lent: the shared buffer with its length, right while the listener runs', async () => {
    // Every handle reads into one buffer and lends it (the core copies what it keeps past the
    // read: payloads in flight, input held back under backpressure). Reads of two connections
    // interleave; each read's bytes must be that connection's, in order.
    const conns: HandleConnection[] = [];
    const fakeBroker = { handleConnection: (c: HandleConnection) => conns.push(c), logger: createLogger('silent') };
    const server = await listenTcp(fakeBroker as unknown as Broker, { port: 0, host: '127.0.0.1' });
    const port = (server.address() as { port: number }).port;
    const sockets = await Promise.all([0xa5, 0x5a].map(async () => {
      const s = netConnect({ port, host: '127.0.0.1' });
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
      return s;
    }));
    await until(() => conns.length === 2, 5000, 'both connections');
    try {
      const chunks: Buffer[][] = [[], []];
      conns.forEach((c, i) => c.on('data', (chunk, lentLength) => {
        assert.ok(lentLength !== undefined && lentLength > 0 && lentLength <= chunk.length, `lent length ${lentLength}`);
        chunks[i].push(Buffer.from(chunk.subarray(0, lentLength)));
      }));
      const sent: Buffer[][] = [[], []];
      // Turns of small and large writes on both, each turn read before the next is sent: the
      // reads of the two connections interleave.
      for (let round = 0; round < 40; round++) {
        for (const i of [0, 1]) {
          const bytes = Buffer.alloc(round % 3 === 0 ? 70_000 : 100 + round, (i === 0 ? 0xa0 : 0x50) + (round & 0x0f));
          sent[i].push(bytes);
          sockets[i].write(bytes);
        }
        const expected = sent.map((s) => s.reduce((n, b) => n + b.length, 0));
        await until(() => chunks.every((c, i) => c.reduce((n, b) => n + b.length, 0) === expected[i]), 5000, 'the bytes sent so far');
      }
      for (const i of [0, 1]) assert.ok(Buffer.concat(chunks[i]).equals(Buffer.concat(sent[i])), `connection ${i}: every chunk as it was read`);
      assert.ok(chunks[0].length + chunks[1].length > 80, 'many reads');
    } finally {
      for (const s of sockets) s.destroy();
      for (const c of conns) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('the check the tests run with: each read is overwritten once the listener has returned', async () => {
    // With MIDGE_SCRAMBLE_LENT_READS=1 (scripts/run-tests.mjs) a view of lent input that the core
    // kept shows up wrong at once, in every socket test; off, the bytes stay until the next read.
    const conns: HandleConnection[] = [];
    const fakeBroker = { handleConnection: (c: HandleConnection) => conns.push(c), logger: createLogger('silent') };
    const server = await listenTcp(fakeBroker as unknown as Broker, { port: 0, host: '127.0.0.1' });
    const socket = netConnect({ port: (server.address() as { port: number }).port, host: '127.0.0.1' });
    const kept: Buffer[] = [];
    const before = scrambleLentReads(true);
    try {
      await until(() => conns.length === 1, 5000, 'the connection');
      conns[0].on('data', (chunk, lentLength) => void kept.push(chunk.subarray(0, lentLength)));
      for (const on of [true, false]) {
        scrambleLentReads(on);
        kept.length = 0;
        socket.write(Buffer.from('lent bytes'));
        await until(() => kept.length > 0, 5000, 'a read');
        const view = kept[0];
        if (on) assert.ok(view.every((b) => b === SCRAMBLED), 'scrambled after the listener returned');
        else assert.equal(view.toString(), 'lent bytes'.slice(0, view.length));
      }
    } finally {
      scrambleLentReads(before);
      socket.destroy();
      for (const c of conns) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
