// CONNECT (3.1.1 section 3.1, 5.0 section 3.1). The protocol name and level follow the version
// the packet is encoded for; a packet that claims another version is refused.

import {
  binarySize, checkInteger, stringSize, writeBinary, writeStringMeasured, writeUint16,
} from '../byte-writer.js';
import { malformed } from '../errors.js';
import type { ConnectPacket, ProtocolVersion } from '../packets.js';
import { PacketType } from '../packets.js';
import { WILL_PROPERTIES } from '../properties.js';
import { propertiesSize, propertyBlockSize, writeProperties } from '../property-writer.js';

const protocolName = (version: ProtocolVersion): string => (version === 3 ? 'MQIsdp' : 'MQTT');

export function connectRemainingLength(p: ConnectPacket, version: ProtocolVersion): number {
  if (p.protocolVersion !== version) {
    throw malformed(`a CONNECT of protocol level ${p.protocolVersion} cannot be encoded as level ${version}`);
  }
  if (p.protocolName !== protocolName(version)) throw malformed(`protocol name ${p.protocolName} is not for level ${version}`);
  checkInteger(p.keepAlive, 0, 0xffff, 'Keep Alive');
  // Name, level, flags and keep alive.
  let size = 2 + protocolName(version).length + 1 + 1 + 2;
  if (version === 5) size += propertyBlockSize(propertiesSize(p.properties, PacketType.CONNECT));
  size += 2 + stringSize(p.clientId, 'Client Identifier');
  const will = p.will;
  if (will !== undefined) {
    checkInteger(will.qos, 0, 2, 'Will QoS');
    if (version === 5) size += propertyBlockSize(propertiesSize(will.properties, WILL_PROPERTIES));
    size += 2 + stringSize(will.topic, 'Will Topic') + 2 + binarySize(will.payload, 'Will Payload');
  }
  if (p.username !== undefined) size += 2 + stringSize(p.username, 'User Name');
  if (p.password !== undefined) {
    // [MQTT-3.1.2-22] (v3.1.1): no password without a user name; 5.0 allows it.
    if (version < 5 && p.username === undefined) throw malformed('a 3.1.1 CONNECT cannot carry a password without a user name');
    size += 2 + binarySize(p.password, 'Password');
  }
  return size;
}

export function writeConnect(buf: Buffer, offset: number, p: ConnectPacket, version: ProtocolVersion): number {
  offset = writeStringMeasured(buf, offset, protocolName(version));
  buf[offset++] = version;
  const will = p.will;
  let flags = p.cleanStart ? 0x02 : 0;
  if (will !== undefined) flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  if (p.password !== undefined) flags |= 0x40;
  if (p.username !== undefined) flags |= 0x80;
  buf[offset++] = flags;
  offset = writeUint16(buf, offset, p.keepAlive);
  if (version === 5) offset = writeProperties(buf, offset, p.properties, propertiesSize(p.properties, PacketType.CONNECT));
  offset = writeStringMeasured(buf, offset, p.clientId);
  if (will !== undefined) {
    if (version === 5) {
      offset = writeProperties(buf, offset, will.properties, propertiesSize(will.properties, WILL_PROPERTIES));
    }
    offset = writeStringMeasured(buf, offset, will.topic);
    offset = writeBinary(buf, offset, will.payload);
  }
  if (p.username !== undefined) offset = writeStringMeasured(buf, offset, p.username);
  if (p.password !== undefined) offset = writeBinary(buf, offset, p.password);
  return offset;
}
