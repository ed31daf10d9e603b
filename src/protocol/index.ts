// The codec's public API: packet types, reason codes, errors, decoder, encoder and the MQTT 5
// property table.

export * from './packets.js';
export * from './reason-codes.js';
export { MqttProtocolError, malformed, protocolError } from './errors.js';
export { PacketDecoder, type PacketDecoderOptions, type PacketSink } from './decoder.js';
export { encodePacket, encodePublish, encodedLength, withPacketId } from './encoder.js';
export {
  PROPERTY_BY_ID,
  PROPERTY_BY_NAME,
  PROPERTY_DEFINITIONS,
  PropertyType,
  WILL_PROPERTIES,
  type PropertyDefinition,
} from './properties.js';
export { MAX_PACKET_SIZE, MAX_REMAINING_LENGTH } from './fixed-header.js';
