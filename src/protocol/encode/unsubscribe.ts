// UNSUBSCRIBE (3.1.1 section 3.10, 5.0 section 3.10).

import { checkInteger, stringSize, writeStringMeasured, writeUint16 } from '../byte-writer.js';
import { malformed } from '../errors.js';
import type { ProtocolVersion, UnsubscribePacket } from '../packets.js';
import { PacketType } from '../packets.js';
import { propertiesSize, propertyBlockSize, writeProperties } from '../property-writer.js';

export function unsubscribeRemainingLength(p: UnsubscribePacket, version: ProtocolVersion): number {
  checkInteger(p.packetId, 1, 0xffff, 'Packet Identifier');
  if (!Array.isArray(p.topicFilters) || p.topicFilters.length === 0) throw malformed('UNSUBSCRIBE needs at least one topic filter');
  let size = 2;
  if (version === 5) size += propertyBlockSize(propertiesSize(p.properties, PacketType.UNSUBSCRIBE));
  for (const filter of p.topicFilters) {
    const length = stringSize(filter, 'Topic Filter');
    if (length === 0) throw malformed('a Topic Filter is empty');
    size += 2 + length;
  }
  return size;
}

export function writeUnsubscribe(buf: Buffer, offset: number, p: UnsubscribePacket, version: ProtocolVersion): number {
  offset = writeUint16(buf, offset, p.packetId);
  if (version === 5) offset = writeProperties(buf, offset, p.properties, propertiesSize(p.properties, PacketType.UNSUBSCRIBE));
  for (const filter of p.topicFilters) offset = writeStringMeasured(buf, offset, filter);
  return offset;
}
