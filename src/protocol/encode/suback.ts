// SUBACK (3.1.1 section 3.9, 5.0 section 3.9).

import { checkInteger, writeUint16 } from '../byte-writer.js';
import { malformed } from '../errors.js';
import type { ProtocolVersion, SubackPacket } from '../packets.js';
import { PacketType } from '../packets.js';
import { propertiesSize, propertyBlockSize, writeProperties } from '../property-writer.js';
import { SUBACK_V4_CODES, SUBACK_V5_CODES, isValidCode } from '../valid-reason-codes.js';

export function subackRemainingLength(p: SubackPacket, version: ProtocolVersion): number {
  checkInteger(p.packetId, 1, 0xffff, 'Packet Identifier');
  if (!Array.isArray(p.reasonCodes) || p.reasonCodes.length === 0) throw malformed('SUBACK needs at least one return code');
  const codes = version === 5 ? SUBACK_V5_CODES : SUBACK_V4_CODES;
  for (const code of p.reasonCodes) {
    if (!isValidCode(codes, code)) throw malformed(`SUBACK code ${code} is not defined for protocol level ${version}`);
  }
  let size = 2 + p.reasonCodes.length;
  if (version === 5) size += propertyBlockSize(propertiesSize(p.properties, PacketType.SUBACK));
  return size;
}

export function writeSuback(buf: Buffer, offset: number, p: SubackPacket, version: ProtocolVersion): number {
  offset = writeUint16(buf, offset, p.packetId);
  if (version === 5) offset = writeProperties(buf, offset, p.properties, propertiesSize(p.properties, PacketType.SUBACK));
  for (const code of p.reasonCodes) buf[offset++] = code;
  return offset;
}
