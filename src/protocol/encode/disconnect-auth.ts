// DISCONNECT and AUTH share a layout in 5.0: an optional reason code, then optional properties.
// Both are left out for reason 0 without properties (Remaining Length 0). DISCONNECT with a
// reason and no properties drops the Property Length too (section 3.14.2.2.1 allows it); AUTH
// has no such form in the spec, so it always carries a Property Length after its reason code.

import { malformed } from '../errors.js';
import type { AuthPacket, DisconnectPacket, ProtocolVersion } from '../packets.js';
import { PacketType } from '../packets.js';
import { propertiesSize, propertyBlockSize, writeProperties } from '../property-writer.js';
import { AUTH_CODES, DISCONNECT_CODES, isValidCode } from '../valid-reason-codes.js';

export function disconnectRemainingLength(p: DisconnectPacket, version: ProtocolVersion): number {
  if (version < 5) return 0;
  const reasonCode = p.reasonCode ?? 0;
  if (!isValidCode(DISCONNECT_CODES, reasonCode)) throw malformed(`DISCONNECT reason code ${reasonCode} is not defined`);
  const properties = propertiesSize(p.properties, PacketType.DISCONNECT);
  if (properties === 0) return reasonCode === 0 ? 0 : 1;
  return 1 + propertyBlockSize(properties);
}

export function authRemainingLength(p: AuthPacket, version: ProtocolVersion): number {
  if (version < 5) throw malformed('AUTH exists only in MQTT 5');
  const reasonCode = p.reasonCode ?? 0;
  if (!isValidCode(AUTH_CODES, reasonCode)) throw malformed(`AUTH reason code ${reasonCode} is not defined`);
  const properties = propertiesSize(p.properties, PacketType.AUTH);
  if (properties === 0 && reasonCode === 0) return 0;
  return 1 + propertyBlockSize(properties);
}

/** Writes the body of a 5.0 DISCONNECT or AUTH into a buffer sized by the functions above. */
export function writeReasonAndProperties(buf: Buffer, offset: number, p: DisconnectPacket | AuthPacket): number {
  if (offset === buf.length) return offset;
  buf[offset++] = p.reasonCode ?? 0;
  if (offset === buf.length) return offset;
  return writeProperties(buf, offset, p.properties, propertiesSize(p.properties, p.type));
}
