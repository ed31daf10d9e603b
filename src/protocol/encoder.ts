// Encoding packets for a given protocol level. Every encoder measures (and checks) the packet
// first, then allocates one buffer of exactly the right size and writes into it.

import { allocatePacket, bodyOffset } from './byte-writer.js';
import { ackRemainingLength, writeAck } from './encode/ack.js';
import { connackRemainingLength, writeConnack } from './encode/connack.js';
import { connectRemainingLength, writeConnect } from './encode/connect.js';
import { authRemainingLength, disconnectRemainingLength, writeReasonAndProperties } from './encode/disconnect-auth.js';
import { encodePublish, encodePublishFields, publishRemainingLength, withPacketId } from './encode/publish.js';
import { subackRemainingLength, writeSuback } from './encode/suback.js';
import { subscribeRemainingLength, writeSubscribe } from './encode/subscribe.js';
import { unsubackRemainingLength, writeUnsuback } from './encode/unsuback.js';
import { unsubscribeRemainingLength, writeUnsubscribe } from './encode/unsubscribe.js';
import { malformed } from './errors.js';
import type { Packet, ProtocolVersion } from './packets.js';
import { PacketType } from './packets.js';

export { encodePublish, encodePublishFields, withPacketId };

/** Encodes any packet for protocol level `version`; throws MqttProtocolError if it cannot be. */
export function encodePacket(packet: Packet, version: ProtocolVersion): Buffer {
  checkVersion(version);
  if (packet.type === PacketType.PUBLISH) return encodePublish(packet, version);
  const remaining = remainingLength(packet, version);
  // PUBREL, SUBSCRIBE and UNSUBSCRIBE carry the flags 0b0010; every other type 0.
  const flags = packet.type === PacketType.PUBREL || packet.type === PacketType.SUBSCRIBE ||
    packet.type === PacketType.UNSUBSCRIBE ? 0b0010 : 0;
  const buf = allocatePacket((packet.type << 4) | flags, remaining);
  const end = writeBody(buf, bodyOffset(remaining), packet, version);
  if (end !== buf.length) throw malformed(`internal error: encoded ${end} of ${buf.length} bytes`);
  return buf;
}

/** The size in bytes encodePacket would produce, without encoding. */
export function encodedLength(packet: Packet, version: ProtocolVersion): number {
  checkVersion(version);
  const remaining = packet.type === PacketType.PUBLISH
    ? publishRemainingLength(packet, version)
    : remainingLength(packet, version);
  return bodyOffset(remaining) + remaining;
}

function checkVersion(version: ProtocolVersion): void {
  if (version !== 3 && version !== 4 && version !== 5) throw malformed(`protocol level ${String(version)} is not 3, 4 or 5`);
}

function remainingLength(packet: Packet, version: ProtocolVersion): number {
  switch (packet.type) {
    case PacketType.CONNECT: return connectRemainingLength(packet, version);
    case PacketType.CONNACK: return connackRemainingLength(packet, version);
    case PacketType.PUBLISH: return publishRemainingLength(packet, version);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP: return ackRemainingLength(packet, version);
    case PacketType.SUBSCRIBE: return subscribeRemainingLength(packet, version);
    case PacketType.SUBACK: return subackRemainingLength(packet, version);
    case PacketType.UNSUBSCRIBE: return unsubscribeRemainingLength(packet, version);
    case PacketType.UNSUBACK: return unsubackRemainingLength(packet, version);
    case PacketType.PINGREQ:
    case PacketType.PINGRESP: return 0;
    case PacketType.DISCONNECT: return disconnectRemainingLength(packet, version);
    case PacketType.AUTH: return authRemainingLength(packet, version);
    default: throw malformed(`unknown packet type ${String((packet as { type: unknown }).type)}`);
  }
}

function writeBody(buf: Buffer, offset: number, packet: Packet, version: ProtocolVersion): number {
  switch (packet.type) {
    case PacketType.CONNECT: return writeConnect(buf, offset, packet, version);
    case PacketType.CONNACK: return writeConnack(buf, offset, packet, version);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP: return writeAck(buf, offset, packet, version);
    case PacketType.SUBSCRIBE: return writeSubscribe(buf, offset, packet, version);
    case PacketType.SUBACK: return writeSuback(buf, offset, packet, version);
    case PacketType.UNSUBSCRIBE: return writeUnsubscribe(buf, offset, packet, version);
    case PacketType.UNSUBACK: return writeUnsuback(buf, offset, packet, version);
    case PacketType.DISCONNECT:
    case PacketType.AUTH: return version === 5 ? writeReasonAndProperties(buf, offset, packet) : offset;
    default: return offset;
  }
}
