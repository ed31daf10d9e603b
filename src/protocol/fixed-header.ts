// The fixed header: packet type and flags in byte 0, then the Remaining Length.

import { malformed } from './errors.js';
import { PacketType, type ProtocolVersion } from './packets.js';

/** The largest Remaining Length four Variable Byte Integer bytes can hold. */
export const MAX_REMAINING_LENGTH = 268_435_455;
/** The largest whole packet: one type byte, four length bytes and the largest remaining length. */
export const MAX_PACKET_SIZE = MAX_REMAINING_LENGTH + 5;

const PUBLISH_FLAGS = -1;
/**
 * The flags each packet type must carry, by type. Reserved bits hold exactly these values
 * [MQTT-2.2.2-1] (v3.1.1), [MQTT-2.1.3-1] (v5); PUBREL, SUBSCRIBE and UNSUBSCRIBE carry 0b0010
 * [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1]; PUBLISH flags are DUP, QoS and RETAIN.
 */
const REQUIRED_FLAGS = [
  0, 0, 0, PUBLISH_FLAGS, 0, 0, 0b0010, 0, 0b0010, 0, 0b0010, 0, 0, 0, 0, 0,
];
const NAMES = [
  'reserved', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP',
  'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH',
];

export const packetTypeName = (type: number): string => NAMES[type] ?? `type ${type}`;

/** Throws a malformed-packet error unless byte 0 names a packet type of `version` with legal flags. */
export function checkFirstByte(byte0: number, version: ProtocolVersion): void {
  const type = byte0 >> 4;
  const flags = byte0 & 0x0f;
  if (type === 0) throw malformed('packet type 0 is reserved');
  // Type 15 is AUTH in 5.0 and reserved before it.
  if (type === PacketType.AUTH && version < 5) throw malformed('packet type 15 (AUTH) does not exist before MQTT 5');
  const required = REQUIRED_FLAGS[type];
  if (required === PUBLISH_FLAGS) {
    const qos = (flags >> 1) & 3;
    // Both QoS bits set [MQTT-3.3.1-4].
    if (qos === 3) throw malformed('PUBLISH with QoS 3');
    // DUP must be 0 on QoS 0 [MQTT-3.3.1-2]; like Mosquitto we call the violation malformed.
    if (qos === 0 && (flags & 0x08) !== 0) throw malformed('PUBLISH with QoS 0 and DUP set');
  } else if (flags !== required) {
    throw malformed(`${NAMES[type]} with invalid fixed header flags 0x${flags.toString(16)}`);
  }
}

/** Bytes the Variable Byte Integer `value` takes. */
export const variableByteIntegerSize = (value: number): number =>
  value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : 4;
