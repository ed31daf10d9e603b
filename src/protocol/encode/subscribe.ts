// SUBSCRIBE (3.1.1 section 3.8, 5.0 section 3.8). 3.1/3.1.1 carry only the requested QoS; the
// 5.0 subscription options are dropped for them.

import { checkInteger, stringSize, writeStringMeasured, writeUint16 } from '../byte-writer.js';
import { malformed } from '../errors.js';
import type { ProtocolVersion, SubscribePacket, Subscription } from '../packets.js';
import { PacketType } from '../packets.js';
import { propertiesSize, propertyBlockSize, writeProperties } from '../property-writer.js';

export function subscribeRemainingLength(p: SubscribePacket, version: ProtocolVersion): number {
  checkInteger(p.packetId, 1, 0xffff, 'Packet Identifier');
  if (!Array.isArray(p.subscriptions) || p.subscriptions.length === 0) throw malformed('SUBSCRIBE needs at least one subscription');
  let size = 2;
  if (version === 5) size += propertyBlockSize(propertiesSize(p.properties, PacketType.SUBSCRIBE));
  for (const s of p.subscriptions) {
    const length = stringSize(s.topicFilter, 'Topic Filter');
    if (length === 0) throw malformed('a Topic Filter is empty');
    checkInteger(s.qos, 0, 2, 'requested QoS');
    checkInteger(s.retainHandling, 0, 2, 'Retain Handling');
    size += 3 + length;
  }
  return size;
}

export function writeSubscribe(buf: Buffer, offset: number, p: SubscribePacket, version: ProtocolVersion): number {
  offset = writeUint16(buf, offset, p.packetId);
  if (version === 5) offset = writeProperties(buf, offset, p.properties, propertiesSize(p.properties, PacketType.SUBSCRIBE));
  for (const s of p.subscriptions) {
    offset = writeStringMeasured(buf, offset, s.topicFilter);
    buf[offset++] = version === 5 ? optionsByte(s) : s.qos;
  }
  return offset;
}

const optionsByte = (s: Subscription): number =>
  s.qos | (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | (s.retainHandling << 4);
