// CONNACK (3.1.1 section 3.2, 5.0 section 3.2).

import type { ByteReader } from '../byte-reader.js';
import { malformed, protocolError } from '../errors.js';
import type { ConnackPacket, ProtocolVersion } from '../packets.js';
import { PacketType } from '../packets.js';
import { readProperties } from '../property-reader.js';
import { CONNACK_V4_CODES, CONNACK_V5_CODES, isValidCode } from '../valid-reason-codes.js';

export function readConnack(r: ByteReader, version: ProtocolVersion): ConnackPacket {
  const flags = r.byte();
  // Bits 7-1 of the acknowledge flags are reserved and 0 ([MQTT-3.2.2-1] (v5)).
  if ((flags & 0xfe) !== 0) throw malformed('CONNACK acknowledge flags have reserved bits set');
  const reasonCode = r.byte();
  if (!isValidCode(version === 5 ? CONNACK_V5_CODES : CONNACK_V4_CODES, reasonCode)) {
    throw protocolError(`CONNACK with the undefined code 0x${reasonCode.toString(16)}`);
  }
  const packet: ConnackPacket = { type: PacketType.CONNACK, sessionPresent: flags === 1, reasonCode };
  if (version === 5) {
    const properties = readProperties(r, PacketType.CONNACK);
    if (properties !== undefined) packet.properties = properties;
  }
  r.expectEnd('CONNACK');
  return packet;
}
