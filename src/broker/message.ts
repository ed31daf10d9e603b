// One application message as it travels through the broker: stored once, referenced by every
// queue and in-flight slot, and encoded once per wire form shared by all subscribers that
// take that form (DESIGN.md, performance principles).

import { Buffer } from 'node:buffer';
import type { Properties, ProtocolVersion, PublishPacket, QoS } from '../protocol/packets.js';
import { encodePublish, encodePublishFields, withPacketId } from '../protocol/encoder.js';
import type { StoredMessage } from '../store/store.js';

/** The QoS a message is delivered at: the lower of the published and the granted one. */
export function minQoS(a: QoS, b: QoS): QoS {
  return a < b ? a : b;
}

export class Message implements StoredMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** Properties forwarded to 5.0 subscribers (never a topic alias or subscription ids). */
  properties: Properties | undefined;
  expiresAt: number | undefined;
  /** Client id of the publisher, for the no-local subscription option. */
  readonly senderId: string | undefined;
  /**
   * Encoded PUBLISH bytes for the wire forms asked for so far (encodeShared): the one form's
   * bytes while there is one (most messages have one kind of subscriber, and an array each would
   * be most of what routing allocates for them), an array by form index once there are more.
   */
  private wire: Buffer | (Buffer | undefined)[] | undefined;
  /** The form of `wire` while it holds one form's bytes. */
  private wireForm = 0;
  private owned = false;

  constructor(
    topic: string,
    payload: Buffer,
    qos: QoS,
    retain: boolean,
    properties: Properties | undefined,
    expiresAt: number | undefined,
    senderId: string | undefined,
  ) {
    this.topic = topic;
    this.payload = payload;
    this.qos = qos;
    this.retain = retain;
    this.properties = properties;
    this.expiresAt = expiresAt;
    this.senderId = senderId;
  }

  static fromStored(m: StoredMessage): Message {
    const msg = new Message(m.topic, m.payload, m.qos, m.retain, m.properties, m.expiresAt, undefined);
    msg.owned = true;
    return msg;
  }

  /**
   * Copies the payload out of the socket chunk it was decoded from. Called before a message is
   * kept past the handling of its PUBLISH (retained, queued, stored, a will): a slice would pin
   * the whole chunk, and a QoS 0 payload may be a view of a transport's read buffer, which the
   * next read overwrites (PacketDecoderOptions.lendPayloads).
   */
  own(): this {
    if (!this.owned) {
      this.payload = Buffer.from(this.payload);
      this.owned = true;
    }
    return this;
  }

  isExpired(now: number): boolean {
    return this.expiresAt !== undefined && now >= this.expiresAt;
  }

  /**
   * The PUBLISH bytes for one subscriber. Shared bytes when the form allows; a fresh encoding
   * when a 5.0 subscriber needs its own properties (subscription ids, remaining expiry).
   */
  encode(version: ProtocolVersion, qos: QoS, retain: boolean, packetId: number, dup: boolean, subscriptionIds: number[] | undefined): Buffer {
    if (version === 5 && (subscriptionIds !== undefined || this.expiresAt !== undefined)) {
      return encodePublish(this.packetFor(version, qos, retain, packetId || 1, dup, subscriptionIds), version);
    }
    return this.encodeShared(version, qos, retain, packetId, dup);
  }

  /**
   * A 5.0 PUBLISH carrying a topic alias chosen for one connection: with the topic the first
   * time (`aliasKnown` false), with an empty topic once the client knows the alias.
   */
  encodeWithAlias(qos: QoS, retain: boolean, packetId: number, dup: boolean, subscriptionIds: number[] | undefined, alias: number, aliasKnown: boolean): Buffer {
    const packet = this.packetFor(5, qos, retain, packetId || 1, dup, subscriptionIds);
    packet.properties = { ...packet.properties, topicAlias: alias };
    if (aliasKnown) packet.topic = '';
    return encodePublish(packet, 5);
  }

  private encodeShared(version: ProtocolVersion, qos: QoS, retain: boolean, packetId: number, dup: boolean): Buffer {
    const index = (version === 5 ? 6 : 0) + qos * 2 + (retain ? 1 : 0);
    const wire = this.wire;
    const cached = wire === undefined ? undefined : Array.isArray(wire) ? wire[index] : this.wireForm === index ? wire : undefined;
    if (cached !== undefined) return qos === 0 ? cached : withPacketId(cached, packetId, dup);
    // The first subscriber's own bytes become the template for the next ones (which only get
    // a copy with their packet id): one encoding, and no copy at all for a lone subscriber.
    // Only 5.0 carries properties, and a message with an expiry never comes here (encode()).
    const properties = version === 5 ? this.properties : undefined;
    const bytes = encodePublishFields(this.topic, this.payload, qos, retain, dup, qos === 0 ? undefined : packetId || 1, properties, version);
    if (wire === undefined) {
      this.wire = bytes;
      this.wireForm = index;
    } else if (Array.isArray(wire)) {
      wire[index] = bytes;
    } else {
      const forms: (Buffer | undefined)[] = [];
      forms[this.wireForm] = wire;
      forms[index] = bytes;
      this.wire = forms;
    }
    return bytes;
  }

  /** Forgets the shared encodings once routing is done, so long-kept messages do not hold them. */
  dropEncodings(): void {
    this.wire = undefined;
  }

  private packetFor(version: ProtocolVersion, qos: QoS, retain: boolean, packetId: number, dup: boolean, subscriptionIds: number[] | undefined): PublishPacket {
    const packet: PublishPacket = { type: 3, topic: this.topic, payload: this.payload, qos, retain, dup };
    if (qos > 0) packet.packetId = packetId;
    if (version === 5) {
      let props = this.properties;
      if (this.expiresAt !== undefined) {
        // [MQTT-3.3.2-6] (v5) the expiry sent on is what remains of it
        props = { ...props, messageExpiryInterval: Math.max(0, Math.ceil((this.expiresAt - Date.now()) / 1000)) };
      }
      if (subscriptionIds !== undefined) props = { ...props, subscriptionIdentifiers: subscriptionIds };
      if (props !== undefined) packet.properties = props;
    }
    return packet;
  }
}
