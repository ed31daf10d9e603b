// CONNACK (3.1.1 section 3.2, 5.0 section 3.2).

import { malformed } from '../errors.js';
import type { ConnackPacket, ProtocolVersion } from '../packets.js';
import { PacketType } from '../packets.js';
import { propertiesSize, propertyBlockSize, writeProperties } from '../property-writer.js';
import { CONNACK_V4_CODES, CONNACK_V5_CODES, isValidCode } from '../valid-reason-codes.js';

export function connackRemainingLength(p: ConnackPacket, version: ProtocolVersion): number {
  if (!isValidCode(version === 5 ? CONNACK_V5_CODES : CONNACK_V4_CODES, p.reasonCode)) {
    throw malformed(`CONNACK code ${p.reasonCode} is not defined for protocol level ${version}`);
  }
  // A refusal never claims a session: [MQTT-3.2.2-4] (v3.1.1), [MQTT-3.2.2-6] (v5).
  if (p.sessionPresent && p.reasonCode !== 0) throw malformed('a refusing CONNACK cannot have Session Present set');
  return version === 5 ? 2 + propertyBlockSize(propertiesSize(p.properties, PacketType.CONNACK)) : 2;
}

export function writeConnack(buf: Buffer, offset: number, p: ConnackPacket, version: ProtocolVersion): number {
  buf[offset++] = p.sessionPresent ? 1 : 0;
  buf[offset++] = p.reasonCode;
  if (version === 5) offset = writeProperties(buf, offset, p.properties, propertiesSize(p.properties, PacketType.CONNACK));
  return offset;
}
