// One network connection and its protocol state machine: decodes what arrives, dispatches each
// packet to its handler (one file per packet type in handlers/), and writes what the broker
// sends, corked per event-loop turn. The session it serves outlives it when persistent.

import { Buffer } from 'node:buffer';
import { PacketDecoder } from '../protocol/decoder.js';
import { copyOut } from '../protocol/byte-reader.js';
import { encodePacket } from '../protocol/encoder.js';
import { MqttProtocolError } from '../protocol/errors.js';
import { MAX_PACKET_SIZE } from '../protocol/fixed-header.js';
import { nowTick, ticksFor } from './deadlines.js';
import type { AckPacket, ConnectPacket, Packet, ProtocolVersion, QoS } from '../protocol/packets.js';
import { encodeAck } from '../protocol/encode/ack.js';
import { allocatePacketBuffer } from '../protocol/packet-buffer.js';
import type { AuthExchange } from '../auth/authenticator.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { Broker } from './broker.js';
import { CONNECTION_OWNER, type Connection } from './connection.js';
import type { ClientInfo } from './hooks.js';
import type { Message } from './message.js';
import type { Session } from './session.js';
import { handleConnect } from './handlers/connect.js';
import { handlePublish } from './handlers/publish.js';
import { handlePuback, handlePubcomp, handlePubrec, handlePubrel } from './handlers/acks.js';
import { handleSubscribe } from './handlers/subscribe.js';
import { handleUnsubscribe } from './handlers/unsubscribe.js';
import { handleDisconnect } from './handlers/disconnect.js';
import { handleAuth } from './handlers/auth.js';

/** 5.0 enhanced authentication in progress (or done, for re-authentication). */
export interface AuthState {
  method: string;
  exchange: AuthExchange;
  /** The CONNECT waiting for the exchange to finish. */
  connect: ConnectPacket;
  done?: boolean;
}

export interface PendingWill {
  message: Message;
  /** 5.0 Will Delay Interval, seconds. */
  delay: number;
}

type ClientState = 'connecting' | 'connected' | 'closed';

/** Packets at least this large are written on their own rather than copied into a turn's buffer. */
const DIRECT_WRITE_BYTES = 16 * 1024;
/** Gathered packets are written once they reach this size, without waiting for the turn's end. */
const FLUSH_BYTES = 64 * 1024;

export class Client {
  // Fields are laid out in the order they are declared (after broker and conn, the
  // constructor's): those a PUBLISH in or out reads or writes come first, so that it touches
  // two or three cache lines of the client, not five (bench/core-path.mjs --lines).
  readonly decoder: PacketDecoder;
  state: ClientState = 'connecting';
  protocolVersion: ProtocolVersion = 4;
  private pausedBy = 0;
  /** Bytes received but not yet decoded because reading was paused mid-chunk. */
  private heldInput: Buffer | undefined;
  /** Bytes written between accepting CONNECT and sending CONNACK, which must go first. */
  private held: Buffer[] | undefined;
  private corked = false;
  /**
   * The first packet written in this event-loop turn, sent by uncork() (see write()). Most turns
   * of a connection at a low rate write one packet, which then goes out as it is, with no array.
   */
  private pendingFirst: Buffer | undefined;
  /** The turn's further packets, sent with the first as one buffer. */
  private pendingMore: Buffer[] | undefined;
  private pendingBytes = 0;
  /** Ticks of silence allowed by the keep alive; 0 when keep alive is off. */
  private keepAliveTicks = 0;
  /**
   * When the broker's sweep ends this client (deadlines.ts): the connect timeout until CONNECT
   * is handled, then 1.5 × keep alive after the last packet; 0 for none.
   */
  deadline: number;
  /**
   * The topic name of this client's last valid PUBLISH: the next one to the same topic (most are)
   * is compared with it instead of checked again. Equal strings are equally valid.
   */
  lastValidTopic: string | undefined = undefined;
  clientId = '';
  /** 5.0 Topic Alias Maximum of the client: how many aliases the broker may use towards it. */
  outboundAliasMaximum = 0;
  /** 5.0 Maximum Packet Size of the client: larger messages are not sent to it. (No packet is larger than the protocol's maximum, a small integer where Infinity would be a boxed number per client.) */
  maxOutgoingPacketSize = MAX_PACKET_SIZE;
  session: Session | undefined;
  /** 5.0 incoming QoS 1/2 PUBLISH not yet acknowledged, against our Receive Maximum. */
  inboundUnacked = 0;
  /** Outgoing QoS 1/2 window: the broker's limit, lowered by a 5.0 client's Receive Maximum. */
  sendQuota: number;
  /** 5.0 Receive Maximum of the client: a cap on unacknowledged PUBLISH that no window may pass (65535 when not given, and for 3.1.x). */
  receiveMaximum = 65535;
  username: string | undefined;
  will: PendingWill | undefined;
  /** 5.0 Request Problem Information: reason strings only when the client allows them. */
  problemInformation = true;
  /** 5.0 topic aliases the client set towards the broker. */
  inboundAliases: Map<number, string> | undefined;
  private outboundAliases: Map<string, number> | undefined;
  private infoCache: ClientInfo | undefined;
  auth: AuthState | undefined;

  constructor(
    readonly broker: Broker,
    readonly conn: Connection,
  ) {
    // QoS 0 payloads may stay views of a transport's lent read buffer: whatever keeps a message
    // owns it first (Message.own). Hooks are handed the packet or message and may keep it, so
    // with a publish hook every payload is a copy.
    const hooks = broker.hooks;
    const lendPayloads = hooks.authorizePublish === undefined && hooks.published === undefined;
    this.decoder = new PacketDecoder({ maximumPacketSize: broker.caps.maximumPacketSize, lendPayloads });
    this.sendQuota = broker.caps.maxInflight;
    // Listeners and timer callbacks are shared functions that find their client through the
    // connection or the timer argument: a closure per connection per event costs ~300 bytes,
    // and an idle broker holds tens of thousands of connections.
    (conn as OwnedConnection)[CONNECTION_OWNER] = this;
    conn.on('data', onConnectionData);
    conn.on('drain', onConnectionDrain);
    conn.on('close', onConnectionClose);
    conn.on('error', onConnectionError);
    // A connection that never sends CONNECT must not hold a socket forever.
    this.deadline = nowTick() + ticksFor(broker.caps.connectTimeoutMs);
  }

  /** Who this client is, for hooks; built on first use (the peer address costs a system call). */
  get info(): ClientInfo {
    return (this.infoCache ??= { clientId: this.clientId, username: this.username, protocolVersion: this.protocolVersion as 3 | 4 | 5, remoteAddress: this.conn.remoteAddress });
  }

  /** The user name changed (enhanced re-authentication). */
  setUsername(username: string | undefined): void {
    this.username = username;
    this.infoCache = undefined;
  }

  /** A method, not a field read, so TypeScript does not narrow it away after a handler ran. */
  isClosed(): boolean {
    return this.state === 'closed';
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Starts the keep-alive watch: [MQTT-3.1.2-24] (v3.1.1) 1.5 × keep alive without a packet ends the connection. */
  startKeepAlive(seconds: number): void {
    this.keepAliveTicks = seconds > 0 ? ticksFor(seconds * 1500) : 0;
    this.deadline = seconds > 0 ? nowTick() + this.keepAliveTicks : 0;
  }

  /** Called by the broker's sweep once the deadline has passed. */
  onDeadline(): void {
    this.deadline = 0;
    if (this.state === 'connecting') this.onConnectTimeout();
    else if (this.state === 'connected') this.onKeepAliveExpired();
  }

  /**
   * The window for retained messages sent because of a new subscription (maxInflightRetained),
   * lowered by a 5.0 client's Receive Maximum. Worked out when asked: only such messages use it.
   */
  get retainedQuota(): number {
    return Math.min(this.broker.caps.maxInflightRetained, this.receiveMaximum);
  }

  /** `replay`: a retained message sent because of a new subscription, under the larger retainedQuota. */
  canSend(qos: QoS, inflightCount: number, replay = false): boolean {
    return this.conn.writableLength < this.broker.caps.maxBufferedBytes && (qos === 0 || inflightCount < (replay ? this.retainedQuota : this.sendQuota));
  }

  /** Writes a PUBLISH; false when the client's Maximum Packet Size forbids it (the message is skipped). */
  writePublish(message: Message, qos: QoS, retain: boolean, packetId: number, dup: boolean, subscriptionIds: number[] | undefined): boolean {
    const bytes =
      this.outboundAliasMaximum > 0
        ? this.encodeWithAlias(message, qos, retain, packetId, dup, subscriptionIds)
        : message.encode(this.protocolVersion, qos, retain, packetId, dup, subscriptionIds);
    if (bytes.length > this.maxOutgoingPacketSize) {
      this.broker.stats.messagesTooLarge++;
      return false;
    }
    this.write(bytes);
    this.broker.stats.messagesSent++;
    return true;
  }

  /**
   * Topic aliases towards a 5.0 client: the first message on a topic carries the topic and a new
   * alias, later ones only the alias, up to the client's Topic Alias Maximum [MQTT-3.3.2-10]
   * (v5); topics beyond it go out in full. Aliases never change once given, so no reordering.
   */
  private encodeWithAlias(message: Message, qos: QoS, retain: boolean, packetId: number, dup: boolean, subscriptionIds: number[] | undefined): Buffer {
    const aliases = (this.outboundAliases ??= new Map());
    const known = aliases.get(message.topic);
    if (known !== undefined) return message.encodeWithAlias(qos, retain, packetId, dup, subscriptionIds, known, true);
    if (aliases.size < this.outboundAliasMaximum) {
      const alias = aliases.size + 1;
      const bytes = message.encodeWithAlias(qos, retain, packetId, dup, subscriptionIds, alias, false);
      // Only a message that is actually sent teaches the client the alias.
      if (bytes.length <= this.maxOutgoingPacketSize) aliases.set(message.topic, alias);
      return bytes;
    }
    return message.encode(5, qos, retain, packetId, dup, subscriptionIds);
  }

  /** PUBACK, PUBREC, PUBREL or PUBCOMP, without properties (the broker sends none on them). */
  writeAck(type: AckPacket['type'], packetId: number, reasonCode: number): void {
    this.write(encodeAck(type, packetId, reasonCode, this.protocolVersion));
  }

  /** Backpressure: stop reading this connection until every session that asked has caught up. */
  pauseReading(): void {
    if (this.pausedBy++ === 0) this.conn.pause();
  }

  resumeReading(): void {
    if (this.pausedBy === 0 || --this.pausedBy > 0) return;
    this.conn.resume();
    if (this.heldInput !== undefined) {
      // The rest of the chunk that was being read when the pause came; later, not from inside
      // the drain of the session that released us.
      setImmediate(feedHeldInput, this);
    }
  }

  feedHeldInput(): void {
    const held = this.heldInput;
    if (held === undefined || this.pausedBy > 0) return;
    this.heldInput = undefined;
    this.onData(held);
  }

  /** An acknowledgement released by the durable gate; a PUBACK gives back Receive Maximum quota. */
  sendAck(type: AckPacket['type'], packetId: number, reasonCode: number): void {
    if (type === 4 && this.inboundUnacked > 0) this.inboundUnacked--;
    if (this.connected) this.writeAck(type, packetId, reasonCode);
  }

  send(packet: Packet): void {
    let bytes = encodePacket(packet, this.protocolVersion);
    if (bytes.length > this.maxOutgoingPacketSize && 'properties' in packet && packet.properties !== undefined) {
      // 5.0: a Reason String or User Properties that would make the packet too large for the
      // client are left out ([MQTT-3.2.2-19] [MQTT-3.2.2-20] (v5) and alike for other packets).
      const { reasonString: _r, userProperties: _u, ...rest } = packet.properties;
      bytes = encodePacket({ ...packet, properties: rest } as Packet, this.protocolVersion);
      if (bytes.length > this.maxOutgoingPacketSize) return;
    }
    this.write(bytes);
  }

  /** From now until sendConnack(), writes wait: CONNACK waits for the store, and goes first. */
  holdUntilConnack(): void {
    this.held = [];
  }

  sendConnack(connack: Packet): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.send(connack);
    for (const bytes of held) this.write(bytes);
  }

  write(bytes: Buffer): void {
    if (this.state === 'closed') return;
    if (this.held !== undefined) {
      this.held.push(bytes);
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.broker.scheduleUncork(this);
    }
    // A turn's packets are gathered here and leave in one write, for every transport: one
    // stream write (and, over WebSocket, one frame) per turn instead of one per packet. Large
    // packets are not copied: what is gathered goes first, then they are written as they are.
    if (bytes.length >= DIRECT_WRITE_BYTES) {
      this.flush();
      this.conn.write(bytes);
      return;
    }
    if (this.pendingFirst === undefined) this.pendingFirst = bytes;
    else (this.pendingMore ??= []).push(bytes);
    // Handed to the socket in pieces: the socket's own buffer is what canSend() bounds, and a
    // write it cannot take at once is what makes it emit 'drain', which resumes the session.
    if ((this.pendingBytes += bytes.length) >= FLUSH_BYTES) this.flush();
  }

  /** Called once per event-loop turn by the broker for every client written to in that turn. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.flush();
  }

  /** Sends what is gathered now; also ahead of the turn's end (a drain refilling a large window). */
  flush(): void {
    const first = this.pendingFirst;
    if (first === undefined) return;
    const more = this.pendingMore;
    const bytes = this.pendingBytes;
    // Cleared before the write, which can end the connection and come back here. Nothing is
    // kept for the next turn: an idle connection should not hold an array.
    this.pendingFirst = undefined;
    this.pendingMore = undefined;
    this.pendingBytes = 0;
    this.conn.write(more === undefined ? first : joinPackets(first, more, bytes));
  }

  /**
   * Ends the connection for a protocol violation or a server decision. 5.0 clients get a
   * DISCONNECT with the reason first; 3.1/3.1.1 have no way to say why. The will is published.
   */
  disconnect(reasonCode: number, reason?: string): void {
    if (this.state === 'closed') return;
    if (this.state === 'connected' && this.protocolVersion === 5) {
      const packet: Packet = { type: 14, reasonCode };
      if (reason !== undefined && this.problemInformation) packet.properties = { reasonString: reason };
      this.send(packet);
    }
    this.broker.logger.debug('disconnecting client', { clientId: this.clientId, reasonCode, reason });
    this.teardown(true);
    this.endSoon();
  }

  /** Ends the connection right after a refusing CONNACK has been written. */
  refuse(): void {
    this.teardown(false);
    this.endSoon();
  }

  /**
   * Releases everything the connection holds: the session is detached (and ends, or starts to
   * expire), the will is published or discarded. Runs once per connection.
   */
  teardown(publishWill: boolean): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.uncork();
    this.state = 'closed';
    this.deadline = 0;
    if (wasConnected) this.broker.clientGone(this, publishWill);
    else this.broker.clients.delete(this);
  }

  private endSoon(): void {
    this.conn.end();
    // A peer that never reads must not keep the socket half-open.
    setTimeout(() => this.conn.destroy(), 1000).unref();
  }

  /**
   * Input from the connection. With `lentLength`, the input is chunk[0, lentLength) of a buffer
   * the transport reuses after this returns (see Connection): whatever is kept is copied.
   */
  onData(chunk: Buffer, lentLength?: number): void {
    if (this.state === 'closed') return;
    if (this.pausedBy > 0 || this.heldInput !== undefined) {
      // Read while paused, or behind bytes still waiting: keep the order, decode later.
      const own = lentLength === undefined ? chunk : copyOut(chunk, 0, lentLength);
      this.heldInput = this.heldInput === undefined ? own : Buffer.concat([this.heldInput, own]);
      if (this.pausedBy === 0) setImmediate(feedHeldInput, this);
      return;
    }
    if (this.keepAliveTicks !== 0 && this.state === 'connected') this.deadline = nowTick() + this.keepAliveTicks;
    const broker = this.broker;
    broker.startOfInput();
    try {
      const rest = this.decoder.decodeTo(chunk, this, lentLength);
      if (rest !== undefined && rest.length > 0 && this.pausedBy > 0 && !this.isClosed()) this.heldInput = rest;
    } catch (error) {
      if (error instanceof MqttProtocolError) {
        this.onProtocolError(error);
        return;
      }
      // A fault of the broker's own while handling this client's packet: it costs this
      // connection, never the process and the other clients.
      this.broker.logger.error('internal error handling a packet', { clientId: this.clientId, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      this.disconnect(ReasonCode.UnspecifiedError, 'internal error');
    } finally {
      // Sessions the chunk acknowledged are refilled, and what the chunk's packets wrote, to any
      // client, leaves now (see Broker.drainSoon and Broker.scheduleUncork).
      broker.endOfInput();
    }
  }

  handlePacket(packet: Packet): boolean {
    if (this.state === 'connecting') {
      if (this.auth !== undefined) {
        // Between CONNECT and CONNACK of enhanced authentication only AUTH may come.
        if (packet.type === 15) handleAuth(this, packet);
        else this.disconnect(ReasonCode.ProtocolError, 'only AUTH may follow CONNECT until CONNACK');
        return !this.isClosed();
      }
      if (packet.type !== 1) {
        // [MQTT-3.1.0-1] the first packet must be CONNECT
        this.broker.logger.debug('first packet is not CONNECT', { type: packet.type });
        this.teardown(false);
        this.conn.destroy();
        return false;
      }
      handleConnect(this, packet);
      return !this.isClosed();
    }
    if (this.state === 'closed') return false;
    switch (packet.type) {
      case 3:
        handlePublish(this, packet);
        break;
      case 4:
        handlePuback(this, packet);
        break;
      case 5:
        handlePubrec(this, packet);
        break;
      case 6:
        handlePubrel(this, packet);
        break;
      case 7:
        handlePubcomp(this, packet);
        break;
      case 8:
        handleSubscribe(this, packet);
        break;
      case 10:
        handleUnsubscribe(this, packet);
        break;
      case 12:
        this.send({ type: 13 });
        break;
      case 14:
        handleDisconnect(this, packet);
        break;
      case 15:
        handleAuth(this, packet);
        break;
      case 1:
        // [MQTT-3.1.0-2] a second CONNECT is a protocol violation
        this.disconnect(ReasonCode.ProtocolError, 'second CONNECT');
        break;
      default:
        // CONNACK, SUBACK, UNSUBACK and PINGRESP are never sent by a client.
        this.disconnect(ReasonCode.ProtocolError, `unexpected packet type ${packet.type}`);
    }
    // Paused by backpressure: the rest of the chunk waits (see onData).
    return !this.isClosed() && this.pausedBy === 0;
  }

  private onProtocolError(error: MqttProtocolError): void {
    this.broker.stats.protocolErrors++;
    this.broker.logger.debug('protocol error', { clientId: this.clientId, reasonCode: error.reasonCode, error: error.message });
    if (this.state === 'connecting') {
      const version = this.decoder.protocolVersion;
      if (error.reasonCode === ReasonCode.UnsupportedProtocolVersion) {
        // [MQTT-3.1.2-2] (v3.1.1) unsupported level: CONNACK 0x01 then close. The 3.1.1 form is
        // the one every client version can read.
        this.protocolVersion = 4;
        this.send({ type: 2, sessionPresent: false, reasonCode: 0x01 });
      } else if (version === 5) {
        this.protocolVersion = 5;
        this.send({ type: 2, sessionPresent: false, reasonCode: error.reasonCode });
      }
      this.refuse();
      return;
    }
    this.disconnect(error.reasonCode, error.message);
  }

  onDrain(): void {
    this.session?.drain();
  }

  onSocketClose(): void {
    this.teardown(true);
  }

  onSocketError(error: Error): void {
    this.broker.logger.debug('socket error', { clientId: this.clientId, error: error.message });
  }

  onConnectTimeout(): void {
    if (this.state !== 'connecting') return;
    this.teardown(false);
    this.conn.destroy();
  }

  onKeepAliveExpired(): void {
    this.broker.logger.debug('keep alive expired', { clientId: this.clientId });
    // A keep-alive timeout is a network failure: the will is published.
    this.disconnect(ReasonCode.KeepAliveTimeout, 'keep alive timeout');
    this.conn.destroy();
  }
}

/** A connection with the client it belongs to (in its CONNECTION_OWNER slot), for the shared listeners below. */
type OwnedConnection = Connection & { [CONNECTION_OWNER]: Client };

function onConnectionData(this: OwnedConnection, chunk: Buffer, lentLength?: number): void {
  this[CONNECTION_OWNER].onData(chunk, lentLength);
}

function onConnectionDrain(this: OwnedConnection): void {
  this[CONNECTION_OWNER].onDrain();
}

function onConnectionClose(this: OwnedConnection): void {
  this[CONNECTION_OWNER].onSocketClose();
}

function onConnectionError(this: OwnedConnection, error: Error): void {
  this[CONNECTION_OWNER].onSocketError(error);
}

function feedHeldInput(client: Client): void {
  client.feedHeldInput();
}

/** One buffer of a turn's packets, in order (Buffer.concat would want them in one array). */
function joinPackets(first: Buffer, more: Buffer[], length: number): Buffer {
  const out = allocatePacketBuffer(length);
  out.set(first, 0);
  let offset = first.length;
  for (let i = 0; i < more.length; i++) {
    out.set(more[i]!, offset);
    offset += more[i]!.length;
  }
  return out;
}
