// PUBLISH, the hot path. A message is encoded once per wire form and the bytes are shared by
// every subscriber that takes that form; for QoS > 0 only the packet identifier differs, and
// withPacketId stamps it into a copy without encoding again.

import { MqttProtocolError, malformed } from '../errors.js';
import { MAX_REMAINING_LENGTH, variableByteIntegerSize } from '../fixed-header.js';
import type { Properties, ProtocolVersion, PublishPacket, QoS } from '../packets.js';
import { PacketType } from '../packets.js';
import { propertiesSize, writeProperties } from '../property-writer.js';
import { allocatePacketBuffer } from '../packet-buffer.js';
import { ReasonCode } from '../reason-codes.js';
import { utf8Length, writeUtf8 } from '../utf8.js';

/** The Remaining Length of `p`; also checks everything encodePublish would refuse. */
export function publishRemainingLength(p: PublishPacket, version: ProtocolVersion): number {
  const propertyBytes = version === 5 ? propertiesSize(p.properties, PacketType.PUBLISH) : 0;
  return remainingLength(p.qos, p.payload, p.packetId, version, topicLength(p.topic), propertyBytes);
}

export function encodePublish(p: PublishPacket, version: ProtocolVersion): Buffer {
  return encodePublishFields(p.topic, p.payload, p.qos, p.retain, p.dup, p.packetId, p.properties, version);
}

/**
 * encodePublish from the packet's fields: the broker encodes a message it holds without first
 * building a PublishPacket around it, an object per message for nothing. `properties` are
 * written only for version 5; `packetId` only for QoS 1 and 2.
 */
export function encodePublishFields(
  topic: string,
  payload: Buffer,
  qos: QoS,
  retain: boolean,
  dup: boolean,
  packetId: number | undefined,
  properties: Properties | undefined,
  version: ProtocolVersion,
): Buffer {
  if (version !== 5 && version !== 4 && version !== 3) throw malformed(`protocol level ${String(version)} is not 3, 4 or 5`);
  const topicBytes = topicLength(topic);
  const propertyBytes = version === 5 && properties !== undefined ? propertiesSize(properties, PacketType.PUBLISH) : 0;
  const remaining = remainingLength(qos, payload, packetId, version, topicBytes, propertyBytes);

  const buf = allocatePacketBuffer(1 + variableByteIntegerSize(remaining) + remaining);
  // DUP is meaningless at QoS 0 and must be 0 there [MQTT-3.3.1-2], so it is never written.
  buf[0] = 0x30 | (qos << 1) | (retain ? 1 : 0) | (dup && qos !== 0 ? 0x08 : 0);
  let o = 1;
  let rest = remaining;
  while (rest >= 0x80) {
    buf[o++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  buf[o++] = rest;
  buf[o++] = topicBytes >>> 8;
  buf[o++] = topicBytes & 0xff;
  o = writeUtf8(buf, o, topic, topicBytes);
  if (qos !== 0) {
    const id = packetId!;
    buf[o++] = id >>> 8;
    buf[o++] = id & 0xff;
  }
  if (version === 5) {
    if (propertyBytes === 0) buf[o++] = 0;
    else o = writeProperties(buf, o, properties, propertyBytes);
  }
  buf.set(payload, o);
  return buf;
}

function topicLength(topic: string): number {
  if (typeof topic !== 'string') throw malformed('PUBLISH topic is not a string');
  const n = utf8Length(topic);
  if (n > 0xffff) throw malformed('PUBLISH topic is longer than 65535 bytes');
  return n;
}

function remainingLength(qos: QoS, payload: Buffer, packetId: number | undefined, version: ProtocolVersion, topicBytes: number, propertyBytes: number): number {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw malformed(`PUBLISH QoS ${String(qos)} is not 0, 1 or 2`);
  if (!(payload instanceof Uint8Array)) throw malformed('PUBLISH payload is not a Buffer');
  let size = 2 + topicBytes + payload.length;
  if (qos !== 0) {
    const id = packetId;
    // A QoS 1 or 2 PUBLISH has a non-zero Packet Identifier [MQTT-2.3.1-1] (v3.1.1).
    if (id === undefined || !Number.isInteger(id) || id < 1 || id > 0xffff) {
      throw malformed(`PUBLISH QoS ${qos} needs a Packet Identifier from 1 to 65535, not ${String(id)}`);
    }
    size += 2;
  }
  if (version === 5) size += variableByteIntegerSize(propertyBytes) + propertyBytes;
  if (size > MAX_REMAINING_LENGTH) {
    throw new MqttProtocolError(`a PUBLISH of ${size} bytes after its fixed header is too large`, ReasonCode.PacketTooLarge);
  }
  return size;
}

/**
 * A copy of an encoded QoS 1 or 2 PUBLISH with another packet identifier, and with DUP set or
 * cleared as asked. The identifier sits right after the topic, found from the fixed header.
 */
export function withPacketId(encoded: Buffer, packetId: number, dup = false): Buffer {
  const byte0 = encoded[0];
  if (byte0 >> 4 !== PacketType.PUBLISH || (byte0 & 0x06) === 0) throw malformed('not an encoded QoS 1 or 2 PUBLISH');
  if (!Number.isInteger(packetId) || packetId < 1 || packetId > 0xffff) {
    throw malformed(`Packet Identifier ${packetId} is not from 1 to 65535`);
  }
  let o = 1;
  while ((encoded[o] & 0x80) !== 0) o++;
  o++;
  o += 2 + ((encoded[o] << 8) | encoded[o + 1]);
  const copy = allocatePacketBuffer(encoded.length);
  copy.set(encoded, 0);
  copy[0] = dup ? byte0 | 0x08 : byte0 & ~0x08;
  copy[o] = packetId >>> 8;
  copy[o + 1] = packetId & 0xff;
  return copy;
}
