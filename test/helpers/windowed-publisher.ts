// A fast QoS 1 / QoS 2 publisher for crash tests, on a raw socket with mqtt-packet (a codec
// that is not the broker's own). It keeps at most `window` messages outstanding, records
// exactly which ones the broker acknowledged, and after the broker comes back it resumes its
// persistent session the way MQTT 3.1.1 asks ([MQTT-4.4.0-1]): every unacknowledged PUBLISH
// is sent again with its packet id and DUP set, every pending PUBREL is sent again.

import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket, { type IConnackPacket, type Packet } from 'mqtt-packet';
import { withTimeout } from './wait.js';

export interface Outbound {
  /** The caller's name for it (a sequence number, a counter value). */
  id: number;
  topic: string;
  payload: Buffer;
  qos: 1 | 2;
  retain: boolean;
}

interface InFlight {
  item: Outbound;
  packetId: number;
  /** QoS 2: PUBREC received, PUBREL sent. */
  released: boolean;
}

export interface PublisherOptions {
  port: number;
  clientId: string;
  /** The messages to send, in order; pulled one at a time as the window allows. */
  source: Iterator<Outbound>;
  window: number;
  /** Called on every acknowledgement: PUBACK (QoS 1), PUBREC and PUBCOMP (QoS 2). */
  onAck?: (item: Outbound, ack: 'puback' | 'pubrec' | 'pubcomp') => void;
}

export class WindowedPublisher {
  /** Sent and not yet fully acknowledged, in the order first sent. */
  readonly inFlight = new Map<number, InFlight>();
  sent = 0;
  private socket: Socket | undefined;
  private source: Iterator<Outbound>;
  private sourceDone = false;
  private nextPacketId = 1;
  private closed = true;
  private waiters: (() => void)[] = [];

  constructor(private readonly options: PublisherOptions) {
    this.source = options.source;
  }

  /** Sends these after what is already queued (e.g. end markers once the source is done). */
  publishFrom(source: Iterator<Outbound>): void {
    if (!this.sourceDone) throw new Error('publishFrom(): the previous source is not finished');
    this.source = source;
    this.sourceDone = false;
    this.pump();
  }

  /** Connects (clean session 0) and starts sending; resolves with the CONNACK. */
  async start(): Promise<IConnackPacket> {
    const connack = await this.connect();
    this.pump();
    return connack;
  }

  /** Reconnects after the broker went away, resends what is unacknowledged, and goes on. */
  async resume(): Promise<IConnackPacket> {
    if (!this.closed) throw new Error('resume(): still connected');
    const connack = await this.connect();
    const socket = this.socket!;
    socket.cork();
    for (const f of this.inFlight.values()) {
      if (f.released) this.write({ cmd: 'pubrel', messageId: f.packetId });
      else this.write(this.publishPacket(f, true));
    }
    socket.uncork();
    this.pump();
    return connack;
  }

  /** True once the connection has closed (the broker died or closed it). */
  get disconnected(): boolean {
    return this.closed;
  }

  /** Waits until the source is exhausted and every message is fully acknowledged, or the connection closes. */
  async settled(ms: number): Promise<void> {
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.closed || (this.sourceDone && this.inFlight.size === 0)) resolve();
          else this.waiters.push(check);
        };
        check();
      }),
      ms,
      `the publisher to finish (sent ${this.sent}, ${this.inFlight.size} unacknowledged)`,
    );
  }

  /** Waits for the connection to close. */
  async closedByBroker(ms: number): Promise<void> {
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.closed) resolve();
          else this.waiters.push(check);
        };
        check();
      }),
      ms,
      'the publisher connection to close',
    );
  }

  /** Sends DISCONNECT and closes. */
  async end(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || this.closed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
    });
  }

  destroy(): void {
    this.socket?.destroy();
  }

  private async connect(): Promise<IConnackPacket> {
    const socket = netConnect({ port: this.options.port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let onConnack: ((packet: IConnackPacket) => void) | undefined;
    let onClosed: ((error: Error) => void) | undefined;
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connack') onConnack?.(packet);
      else this.onPacket(packet);
    });
    parser.on('error', (error: unknown) => {
      socket.destroy(error instanceof Error ? error : new Error(String(error)));
    });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      onClosed?.(new Error('connection closed before CONNACK'));
      this.wake();
    });
    this.socket = socket;
    this.closed = false;
    const connack = await withTimeout(
      new Promise<IConnackPacket>((resolve, reject) => {
        onConnack = resolve;
        onClosed = reject;
        socket.once('connect', () => {
          socket.write(
            mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, keepalive: 0, clientId: this.options.clientId }),
          );
        });
      }),
      10_000,
      `CONNACK for ${this.options.clientId}`,
    );
    onClosed = undefined;
    if (connack.returnCode !== 0) throw new Error(`connect refused with return code ${connack.returnCode}`);
    return connack;
  }

  private onPacket(packet: Packet): void {
    const id = packet.messageId;
    const f = id === undefined ? undefined : this.inFlight.get(id);
    if (f === undefined) return;
    const onAck = this.options.onAck;
    switch (packet.cmd) {
      case 'puback':
        if (f.item.qos !== 1) return;
        this.inFlight.delete(f.packetId);
        onAck?.(f.item, 'puback');
        break;
      case 'pubrec':
        if (f.item.qos !== 2) return;
        if (!f.released) {
          f.released = true;
          onAck?.(f.item, 'pubrec');
        }
        this.write({ cmd: 'pubrel', messageId: f.packetId });
        return;
      case 'pubcomp':
        if (f.item.qos !== 2 || !f.released) return;
        this.inFlight.delete(f.packetId);
        onAck?.(f.item, 'pubcomp');
        break;
      default:
        return;
    }
    this.pump();
    this.wake();
  }

  private pump(): void {
    const socket = this.socket;
    if (socket === undefined || this.closed) return;
    socket.cork();
    while (!this.sourceDone && this.inFlight.size < this.options.window) {
      const next = this.source.next();
      if (next.done === true) {
        this.sourceDone = true;
        break;
      }
      const f: InFlight = { item: next.value, packetId: this.freePacketId(), released: false };
      this.inFlight.set(f.packetId, f);
      this.sent++;
      this.write(this.publishPacket(f, false));
    }
    socket.uncork();
    this.wake();
  }

  private publishPacket(f: InFlight, dup: boolean): Packet {
    const { topic, payload, qos, retain } = f.item;
    return { cmd: 'publish', topic, payload, qos, retain, dup, messageId: f.packetId };
  }

  private freePacketId(): number {
    while (this.inFlight.has(this.nextPacketId)) this.nextPacketId = (this.nextPacketId % 65535) + 1;
    const id = this.nextPacketId;
    this.nextPacketId = (this.nextPacketId % 65535) + 1;
    return id;
  }

  private write(packet: Packet): void {
    if (!this.closed) this.socket!.write(mqttPacket.generate(packet));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
