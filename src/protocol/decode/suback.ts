// SUBACK (3.1.1 section 3.9, 5.0 section 3.9): one return or reason code per filter.

import type { ByteReader } from '../byte-reader.js';
import { protocolError } from '../errors.js';
import type { ProtocolVersion, SubackPacket } from '../packets.js';
import { PacketType } from '../packets.js';
import { readProperties } from '../property-reader.js';
import { SUBACK_V4_CODES, SUBACK_V5_CODES, isValidCode } from '../valid-reason-codes.js';

export function readSuback(r: ByteReader, version: ProtocolVersion): SubackPacket {
  const packetId = r.packetId();
  const properties = version === 5 ? readProperties(r, PacketType.SUBACK) : undefined;
  const codes = version === 5 ? SUBACK_V5_CODES : SUBACK_V4_CODES;
  const reasonCodes: number[] = [];
  while (!r.atEnd()) {
    const code = r.byte();
    if (!isValidCode(codes, code)) throw protocolError(`SUBACK with the undefined code 0x${code.toString(16)}`);
    reasonCodes.push(code);
  }
  // A SUBSCRIBE has at least one filter, so its SUBACK has at least one code.
  if (reasonCodes.length === 0) throw protocolError('SUBACK without any return code');
  const packet: SubackPacket = { type: PacketType.SUBACK, packetId, reasonCodes };
  if (properties !== undefined) packet.properties = properties;
  return packet;
}
