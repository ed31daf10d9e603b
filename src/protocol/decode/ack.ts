// PUBACK, PUBREC, PUBREL and PUBCOMP (3.1.1 sections 3.4-3.7, 5.0 sections 3.4-3.7): a packet
// identifier, and in 5.0 a reason code and properties that may be left out. Remaining Length 2
// means reason 0 and no properties; 3 means a reason code and no properties.

import type { ByteReader } from '../byte-reader.js';
import { protocolError } from '../errors.js';
import type { AckPacket, ProtocolVersion } from '../packets.js';
import { packetTypeName } from '../fixed-header.js';
import { readProperties } from '../property-reader.js';
import { ackCodes, isValidCode } from '../valid-reason-codes.js';

export function readAck(r: ByteReader, type: AckPacket['type'], version: ProtocolVersion): AckPacket {
  const packetId = r.packetId();
  if (version < 5) {
    r.expectEnd(packetTypeName(type));
    return { type, packetId };
  }
  if (r.atEnd()) return { type, packetId, reasonCode: 0 };
  const reasonCode = r.byte();
  // [MQTT-3.4.2-1] [MQTT-3.5.2-1] [MQTT-3.6.2-1] [MQTT-3.7.2-1] (v5).
  if (!isValidCode(ackCodes(type), reasonCode)) {
    throw protocolError(`${packetTypeName(type)} with the undefined reason code 0x${reasonCode.toString(16)}`);
  }
  const packet: AckPacket = { type, packetId, reasonCode };
  if (!r.atEnd()) {
    const properties = readProperties(r, type);
    if (properties !== undefined) packet.properties = properties;
    r.expectEnd(packetTypeName(type));
  }
  return packet;
}
