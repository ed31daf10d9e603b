// DISCONNECT (3.1.1 section 3.14: empty; 5.0 section 3.14: reason code and properties, both
// left out when the reason is 0 and there are none).

import type { ByteReader } from '../byte-reader.js';
import { protocolError } from '../errors.js';
import type { DisconnectPacket, ProtocolVersion } from '../packets.js';
import { PacketType } from '../packets.js';
import { readProperties } from '../property-reader.js';
import { DISCONNECT_CODES, isValidCode } from '../valid-reason-codes.js';

export function readDisconnect(r: ByteReader, version: ProtocolVersion): DisconnectPacket {
  if (version < 5) {
    r.expectEnd('DISCONNECT');
    return { type: PacketType.DISCONNECT };
  }
  if (r.atEnd()) return { type: PacketType.DISCONNECT, reasonCode: 0 };
  const reasonCode = r.byte();
  // [MQTT-3.14.2-1] (v5).
  if (!isValidCode(DISCONNECT_CODES, reasonCode)) {
    throw protocolError(`DISCONNECT with the undefined reason code 0x${reasonCode.toString(16)}`);
  }
  const packet: DisconnectPacket = { type: PacketType.DISCONNECT, reasonCode };
  // "If the Remaining Length is less than 2, a value of 0 is used" for the Property Length.
  if (!r.atEnd()) {
    const properties = readProperties(r, PacketType.DISCONNECT);
    if (properties !== undefined) packet.properties = properties;
    r.expectEnd('DISCONNECT');
  }
  return packet;
}
