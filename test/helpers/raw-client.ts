// A client on a raw socket that speaks through Midge's own codec: for tests that need exact
// packets, bad bytes, or to see exactly what the broker sends.

import { connect as netConnect, type Socket } from 'node:net';
import { PacketDecoder } from '../../src/protocol/decoder.js';
import { encodePacket } from '../../src/protocol/encoder.js';
import type { ConnectPacket, Packet, ProtocolVersion } from '../../src/protocol/packets.js';
import { withTimeout } from './wait.js';

export class RawClient {
  readonly packets: Packet[] = [];
  readonly decoder: PacketDecoder;
  closed = false;
  private waiters: (() => void)[] = [];
  private readonly closedPromise: Promise<void>;

  private constructor(
    readonly socket: Socket,
    public version: ProtocolVersion,
  ) {
    this.decoder = new PacketDecoder({ protocolVersion: version });
    socket.on('data', (chunk) => {
      try {
        this.decoder.decode(chunk, (p) => {
          this.packets.push(p);
        });
      } catch (error) {
        this.packets.push({ type: 14, reasonCode: -1, properties: { reasonString: String(error) } });
      }
      this.wake();
    });
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, version: ProtocolVersion = 4): Promise<RawClient> {
    const socket = netConnect({ port, host: '127.0.0.1' });
    await withTimeout(new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    }), 5000, 'TCP connect');
    return new RawClient(socket, version);
  }

  /** Opens a connection and completes CONNECT / CONNACK. */
  static async connect(port: number, connect: Partial<ConnectPacket> = {}): Promise<RawClient> {
    const version = connect.protocolVersion ?? 4;
    const client = await RawClient.open(port, version);
    client.send({
      type: 1,
      protocolName: version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: version,
      cleanStart: true,
      keepAlive: 0,
      clientId: `raw-${Math.random().toString(36).slice(2)}`,
      ...connect,
    });
    const connack = await client.next();
    if (connack.type !== 2 || connack.reasonCode !== 0) throw new Error(`connect refused: ${JSON.stringify(connack)}`);
    return client;
  }

  send(packet: Packet): void {
    this.socket.write(encodePacket(packet, this.version));
  }

  sendBytes(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.from(bytes));
  }

  /** The next packet received (in order), waiting for it up to `ms`. */
  async next(ms = 5000): Promise<Packet> {
    await withTimeout(
      new Promise<void>((resolve) => {
        if (this.packets.length > 0 || this.closed) resolve();
        else this.waiters.push(resolve);
      }),
      ms,
      'a packet',
    );
    const packet = this.packets.shift();
    if (packet === undefined) throw new Error('connection closed before a packet arrived');
    return packet;
  }

  /** Every packet received so far (at least one, waiting for it up to `ms`), taken in order. */
  async takeAll(ms = 5000): Promise<Packet[]> {
    if (this.packets.length === 0) this.packets.unshift(await this.next(ms));
    return this.packets.splice(0);
  }

  /** Waits for the broker to close the connection; fails if it does not within `ms`. */
  waitClosed(ms = 5000): Promise<void> {
    return withTimeout(this.closedPromise, ms, 'the broker to close the connection');
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * Receives `count` PUBLISH packets, acknowledging each (QoS 2 through PUBREC / PUBREL /
 * PUBCOMP), and returns their payloads as numbers in arrival order.
 */
export async function receiveAcking(client: RawClient, count: number, ms = 30_000): Promise<number[]> {
  const got: number[] = [];
  const deadline = Date.now() + ms;
  while (got.length < count) {
    client.socket.cork();
    for (const packet of await client.takeAll(Math.max(1, deadline - Date.now()))) {
      if (packet.type === 3) {
        got.push(Number(packet.payload.toString()));
        if (packet.qos === 1) client.send({ type: 4, packetId: packet.packetId!, reasonCode: 0 });
        if (packet.qos === 2) client.send({ type: 5, packetId: packet.packetId!, reasonCode: 0 });
      } else if (packet.type === 6) {
        client.send({ type: 7, packetId: packet.packetId, reasonCode: 0 });
      }
    }
    client.socket.uncork();
  }
  return got;
}
