// UNSUBACK (3.1.1 section 3.11: only a packet identifier; 5.0 section 3.11: properties and one
// reason code per filter).

import type { ByteReader } from '../byte-reader.js';
import { protocolError } from '../errors.js';
import type { ProtocolVersion, UnsubackPacket } from '../packets.js';
import { PacketType } from '../packets.js';
import { readProperties } from '../property-reader.js';
import { UNSUBACK_CODES, isValidCode } from '../valid-reason-codes.js';

export function readUnsuback(r: ByteReader, version: ProtocolVersion): UnsubackPacket {
  const packetId = r.packetId();
  if (version < 5) {
    r.expectEnd('UNSUBACK');
    return { type: PacketType.UNSUBACK, packetId };
  }
  const properties = readProperties(r, PacketType.UNSUBACK);
  const reasonCodes: number[] = [];
  while (!r.atEnd()) {
    const code = r.byte();
    if (!isValidCode(UNSUBACK_CODES, code)) throw protocolError(`UNSUBACK with the undefined reason code 0x${code.toString(16)}`);
    reasonCodes.push(code);
  }
  if (reasonCodes.length === 0) throw protocolError('UNSUBACK without any reason code');
  const packet: UnsubackPacket = { type: PacketType.UNSUBACK, packetId, reasonCodes };
  if (properties !== undefined) packet.properties = properties;
  return packet;
}
