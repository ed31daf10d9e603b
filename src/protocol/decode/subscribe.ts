// SUBSCRIBE (3.1.1 section 3.8, 5.0 section 3.8). Filters are decoded, not judged (wildcard
// placement, $share syntax are the broker's), except that an empty one is rejected here.

import type { ByteReader } from '../byte-reader.js';
import { malformed, protocolError } from '../errors.js';
import type { ProtocolVersion, QoS, SubscribePacket, Subscription } from '../packets.js';
import { PacketType } from '../packets.js';
import { readProperties } from '../property-reader.js';

export function readSubscribe(r: ByteReader, version: ProtocolVersion): SubscribePacket {
  const packetId = r.packetId();
  const properties = version === 5 ? readProperties(r, PacketType.SUBSCRIBE) : undefined;
  const subscriptions: Subscription[] = [];
  while (!r.atEnd()) {
    const topicFilter = r.string();
    // Topic filters are at least one character long [MQTT-4.7.3-1].
    if (topicFilter.length === 0) throw malformed('SUBSCRIBE with an empty topic filter');
    const options = r.byte();
    subscriptions.push(version === 5 ? readOptionsV5(topicFilter, options) : readOptionsV4(topicFilter, options));
  }
  // [MQTT-3.8.3-3] (v3.1.1), [MQTT-3.8.3-2] (v5): at least one filter.
  if (subscriptions.length === 0) throw protocolError('SUBSCRIBE without any topic filter');
  const packet: SubscribePacket = { type: PacketType.SUBSCRIBE, packetId, subscriptions };
  if (properties !== undefined) packet.properties = properties;
  return packet;
}

/** 3.1/3.1.1: only the requested QoS, in the low two bits [MQTT-3.8.3-4] (v3.1.1). */
function readOptionsV4(topicFilter: string, options: number): Subscription {
  if ((options & 0xfc) !== 0) throw malformed('SUBSCRIBE requested QoS byte has reserved bits set');
  if (options === 3) throw malformed('SUBSCRIBE requests QoS 3');
  return { topicFilter, qos: options as QoS, noLocal: false, retainAsPublished: false, retainHandling: 0 };
}

function readOptionsV5(topicFilter: string, options: number): Subscription {
  // Bits 6 and 7 are reserved [MQTT-3.8.3-5].
  if ((options & 0xc0) !== 0) throw malformed('SUBSCRIBE options have reserved bits set');
  const qos = options & 3;
  // 5.0 section 3.8.3.1 calls QoS 3 and Retain Handling 3 Protocol Errors.
  if (qos === 3) throw protocolError('SUBSCRIBE requests QoS 3');
  const retainHandling = (options >> 4) & 3;
  if (retainHandling === 3) throw protocolError('SUBSCRIBE with Retain Handling 3');
  return {
    topicFilter,
    qos: qos as QoS,
    noLocal: (options & 0x04) !== 0,
    retainAsPublished: (options & 0x08) !== 0,
    retainHandling: retainHandling as 0 | 1 | 2,
  };
}
