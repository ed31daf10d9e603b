// AUTH (5.0 section 3.15): reason code and properties, both left out for success without
// properties. Whether the Authentication Method is present is for the broker to judge.

import type { ByteReader } from '../byte-reader.js';
import { protocolError } from '../errors.js';
import type { AuthPacket } from '../packets.js';
import { PacketType } from '../packets.js';
import { readProperties } from '../property-reader.js';
import { AUTH_CODES, isValidCode } from '../valid-reason-codes.js';

export function readAuth(r: ByteReader): AuthPacket {
  if (r.atEnd()) return { type: PacketType.AUTH, reasonCode: 0 };
  const reasonCode = r.byte();
  // [MQTT-3.15.2-1] (v5).
  if (!isValidCode(AUTH_CODES, reasonCode)) {
    throw protocolError(`AUTH with the undefined reason code 0x${reasonCode.toString(16)}`);
  }
  const packet: AuthPacket = { type: PacketType.AUTH, reasonCode };
  // The spec gives no form with a reason code alone; we read one like DISCONNECT's, leniently.
  if (!r.atEnd()) {
    const properties = readProperties(r, PacketType.AUTH);
    if (properties !== undefined) packet.properties = properties;
    r.expectEnd('AUTH');
  }
  return packet;
}
