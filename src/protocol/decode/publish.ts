// PUBLISH (3.1.1 section 3.3, 5.0 section 3.3). The topic is decoded but not judged: wildcards,
// empty topics and topic aliases are the broker's to check. The payload is a view of the input.

import type { ByteReader } from '../byte-reader.js';
import type { ProtocolVersion, PublishPacket, QoS } from '../packets.js';
import { PacketType } from '../packets.js';
import { readProperties } from '../property-reader.js';

/**
 * `flags` is the low nibble of byte 0, already checked (no QoS 3, no DUP on QoS 0). With
 * `lendPayload`, a QoS 0 payload without RETAIN stays a view even of lent input
 * (PacketDecoderOptions.lendPayloads).
 */
export function readPublish(r: ByteReader, flags: number, version: ProtocolVersion, lendPayload = false): PublishPacket {
  const qos = ((flags >> 1) & 3) as QoS;
  const topic = r.string();
  // A QoS 0 PUBLISH has no packet identifier ([MQTT-2.3.1-5] (v3.1.1), [MQTT-2.2.1-2] (v5)).
  const packetId = qos === 0 ? 0 : r.packetId();
  const properties = version === 5 ? readProperties(r, PacketType.PUBLISH) : undefined;
  const packet: PublishPacket = {
    type: PacketType.PUBLISH,
    topic,
    payload: lendPayload && qos === 0 && (flags & 1) === 0 ? r.restView() : r.rest(),
    qos,
    retain: (flags & 1) !== 0,
    dup: (flags & 8) !== 0,
  };
  if (qos !== 0) packet.packetId = packetId;
  if (properties !== undefined) packet.properties = properties;
  return packet;
}
