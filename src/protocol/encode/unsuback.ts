// UNSUBACK (3.1.1 section 3.11: packet identifier only; 5.0 section 3.11: with properties and
// one reason code per filter).

import { checkInteger, writeUint16 } from '../byte-writer.js';
import { malformed } from '../errors.js';
import type { ProtocolVersion, UnsubackPacket } from '../packets.js';
import { PacketType } from '../packets.js';
import { propertiesSize, propertyBlockSize, writeProperties } from '../property-writer.js';
import { UNSUBACK_CODES, isValidCode } from '../valid-reason-codes.js';

export function unsubackRemainingLength(p: UnsubackPacket, version: ProtocolVersion): number {
  checkInteger(p.packetId, 1, 0xffff, 'Packet Identifier');
  if (version < 5) return 2;
  const codes = p.reasonCodes;
  if (!Array.isArray(codes) || codes.length === 0) throw malformed('a 5.0 UNSUBACK needs one reason code per topic filter');
  for (const code of codes) {
    if (!isValidCode(UNSUBACK_CODES, code)) throw malformed(`UNSUBACK reason code ${code} is not defined`);
  }
  return 2 + codes.length + propertyBlockSize(propertiesSize(p.properties, PacketType.UNSUBACK));
}

export function writeUnsuback(buf: Buffer, offset: number, p: UnsubackPacket, version: ProtocolVersion): number {
  offset = writeUint16(buf, offset, p.packetId);
  if (version < 5) return offset;
  offset = writeProperties(buf, offset, p.properties, propertiesSize(p.properties, PacketType.UNSUBACK));
  for (const code of p.reasonCodes!) buf[offset++] = code;
  return offset;
}
