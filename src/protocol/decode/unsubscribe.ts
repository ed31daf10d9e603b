// UNSUBSCRIBE (3.1.1 section 3.10, 5.0 section 3.10).

import type { ByteReader } from '../byte-reader.js';
import { malformed, protocolError } from '../errors.js';
import type { ProtocolVersion, UnsubscribePacket } from '../packets.js';
import { PacketType } from '../packets.js';
import { readProperties } from '../property-reader.js';

export function readUnsubscribe(r: ByteReader, version: ProtocolVersion): UnsubscribePacket {
  const packetId = r.packetId();
  const properties = version === 5 ? readProperties(r, PacketType.UNSUBSCRIBE) : undefined;
  const topicFilters: string[] = [];
  while (!r.atEnd()) {
    const filter = r.string();
    // Topic filters are at least one character long [MQTT-4.7.3-1].
    if (filter.length === 0) throw malformed('UNSUBSCRIBE with an empty topic filter');
    topicFilters.push(filter);
  }
  // [MQTT-3.10.3-2]: at least one filter.
  if (topicFilters.length === 0) throw protocolError('UNSUBSCRIBE without any topic filter');
  const packet: UnsubscribePacket = { type: PacketType.UNSUBSCRIBE, packetId, topicFilters };
  if (properties !== undefined) packet.properties = properties;
  return packet;
}
