// PUBACK, PUBREC, PUBREL, PUBCOMP. In 5.0 the shortest form is used: Remaining Length 2 for
// success without properties, 3 for another reason code without properties.

import { Buffer } from 'node:buffer';
import { checkInteger, writeUint16 } from '../byte-writer.js';
import { malformed } from '../errors.js';
import type { AckPacket, ProtocolVersion } from '../packets.js';
import { propertiesSize, propertyBlockSize, writeProperties } from '../property-writer.js';
import { ackCodes, isValidCode } from '../valid-reason-codes.js';
import { allocatePacketBuffer } from '../packet-buffer.js';

export function ackRemainingLength(p: AckPacket, version: ProtocolVersion): number {
  checkInteger(p.packetId, 1, 0xffff, 'Packet Identifier');
  if (version < 5) return 2;
  const reasonCode = p.reasonCode ?? 0;
  if (!isValidCode(ackCodes(p.type), reasonCode)) throw malformed(`reason code ${reasonCode} is not defined for this acknowledgement`);
  const properties = propertiesSize(p.properties, p.type);
  if (properties === 0) return reasonCode === 0 ? 2 : 3;
  return 3 + propertyBlockSize(properties);
}

export function writeAck(buf: Buffer, offset: number, p: AckPacket, version: ProtocolVersion): number {
  offset = writeUint16(buf, offset, p.packetId);
  if (version < 5 || offset === buf.length) return offset;
  buf[offset++] = p.reasonCode ?? 0;
  if (offset === buf.length) return offset;
  return writeProperties(buf, offset, p.properties, propertiesSize(p.properties, p.type));
}

/**
 * An acknowledgement without properties, the only kind the broker sends: the same bytes as
 * encodePacket, without a packet object and the general encoder's walk. Still checked: a
 * packet id out of range or a reason code the type does not define is an error, not a packet.
 */
export function encodeAck(type: AckPacket['type'], packetId: number, reasonCode: number, version: ProtocolVersion): Buffer {
  checkInteger(packetId, 1, 0xffff, 'Packet Identifier');
  const withCode = version === 5 && reasonCode !== 0;
  if (withCode && !isValidCode(ackCodes(type), reasonCode)) throw malformed(`reason code ${reasonCode} is not defined for this acknowledgement`);
  const buf = allocatePacketBuffer(withCode ? 5 : 4);
  // PUBREL carries the flags 0b0010, the others 0.
  buf[0] = (type << 4) | (type === 6 ? 0b0010 : 0);
  buf[1] = withCode ? 3 : 2;
  buf[2] = packetId >>> 8;
  buf[3] = packetId & 0xff;
  if (withCode) buf[4] = reasonCode;
  return buf;
}
