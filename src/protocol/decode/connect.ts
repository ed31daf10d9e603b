// CONNECT (3.1.1 section 3.1, 5.0 section 3.1). The protocol level is taken from the packet
// itself, and handed to the decoder as soon as it is known, so that an error in the rest of the
// CONNECT is still answered with the CONNACK of the client's version.

import { ByteReader } from '../byte-reader.js';
import { MqttProtocolError, malformed } from '../errors.js';
import type { ConnectPacket, ProtocolVersion, QoS, Will } from '../packets.js';
import { PacketType } from '../packets.js';
import { WILL_PROPERTIES } from '../properties.js';
import { readProperties } from '../property-reader.js';
import { ReasonCode } from '../reason-codes.js';

/** What the CONNECT reader tells its decoder: the version of the connection. */
export interface VersionHolder {
  protocolVersion: ProtocolVersion | undefined;
}

const USERNAME = 0x80;
const PASSWORD = 0x40;
const WILL_RETAIN = 0x20;
const WILL_QOS = 0x18;
const WILL_FLAG = 0x04;
const CLEAN_START = 0x02;
const RESERVED = 0x01;

export function readConnect(r: ByteReader, holder: VersionHolder): ConnectPacket {
  const version = readProtocol(r);
  holder.protocolVersion = version;

  const flags = r.byte();
  // [MQTT-3.1.2-3]: the reserved flag is 0, else the packet is malformed.
  if ((flags & RESERVED) !== 0) throw malformed('CONNECT reserved flag is set');
  const hasWill = (flags & WILL_FLAG) !== 0;
  const willQoS = (flags & WILL_QOS) >> 3;
  const willRetain = (flags & WILL_RETAIN) !== 0;
  if (!hasWill && (willQoS !== 0 || willRetain)) {
    // Will QoS and Will Retain are 0 without a will: [MQTT-3.1.2-13] [MQTT-3.1.2-15] (v3.1.1),
    // [MQTT-3.1.2-11] [MQTT-3.1.2-13] (v5).
    throw malformed('CONNECT has Will QoS or Will Retain set without the Will Flag');
  }
  // [MQTT-3.1.2-14] (v3.1.1), [MQTT-3.1.2-12] (v5).
  if (willQoS === 3) throw malformed('CONNECT has Will QoS 3');
  const hasUsername = (flags & USERNAME) !== 0;
  const hasPassword = (flags & PASSWORD) !== 0;
  // [MQTT-3.1.2-22] (v3.1.1): no password without a user name. 5.0 allows it.
  if (version < 5 && hasPassword && !hasUsername) throw malformed('CONNECT has a password but no user name');

  const keepAlive = r.uint16();
  const properties = version === 5 ? readProperties(r, PacketType.CONNECT) : undefined;
  const clientId = r.string();

  const packet: ConnectPacket = {
    type: PacketType.CONNECT,
    protocolName: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    cleanStart: (flags & CLEAN_START) !== 0,
    keepAlive,
    clientId,
  };
  if (properties !== undefined) packet.properties = properties;
  if (hasWill) {
    const willProperties = version === 5 ? readProperties(r, WILL_PROPERTIES) : undefined;
    const will: Will = { topic: r.string(), payload: r.binary(), qos: willQoS as QoS, retain: willRetain };
    if (willProperties !== undefined) will.properties = willProperties;
    packet.will = will;
  }
  if (hasUsername) packet.username = r.string();
  if (hasPassword) packet.password = r.binary();
  r.expectEnd('CONNECT');
  return packet;
}

/**
 * The protocol version of a CONNECT from its first bytes, when they are valid and present; used
 * when the packet is refused before it is complete (too large), so the CONNACK can still match.
 */
export function peekProtocolVersion(buf: Buffer, start: number, end: number): ProtocolVersion | undefined {
  const nameLength = end - start >= 2 ? (buf[start] << 8) | buf[start + 1] : -1;
  if (nameLength !== 4 && nameLength !== 6) return undefined;
  if (start + 2 + nameLength >= end) return undefined;
  const reader = new ByteReader();
  reader.reset(buf, start, end);
  try {
    return readProtocol(reader);
  } catch {
    return undefined;
  }
}

/**
 * Reads the protocol name and level. Only 'MQIsdp' with level 3 and 'MQTT' with 4 or 5 are
 * MQTT as Midge speaks it; anything else is answered as an unsupported protocol version
 * ([MQTT-3.1.2-1] [MQTT-3.1.2-2]).
 */
function readProtocol(r: ByteReader): ProtocolVersion {
  const nameLength = r.uint16();
  const start = r.pos;
  if (start + nameLength + 1 > r.end) throw malformed('CONNECT is too short for its protocol name and level');
  const b = r.buf;
  const level = b[start + nameLength];
  r.pos = start + nameLength + 1;
  const isMqtt = nameLength === 4 && b[start] === 0x4d && b[start + 1] === 0x51 && b[start + 2] === 0x54 &&
    b[start + 3] === 0x54;
  if (isMqtt && (level === 4 || level === 5)) return level;
  const isMqisdp = nameLength === 6 && b.toString('latin1', start, start + 6) === 'MQIsdp';
  if (isMqisdp && level === 3) return 3;
  throw new MqttProtocolError(
    `unsupported protocol: name of ${nameLength} bytes with level ${level}`,
    ReasonCode.UnsupportedProtocolVersion,
  );
}
