import { ReasonCode } from './reason-codes.js';

/**
 * The only error the codec throws. `reasonCode` is the MQTT 5 reason code that describes it
 * (0x81 malformed packet, 0x82 protocol error, 0x95 packet too large, ...); the broker uses it
 * for the DISCONNECT or CONNACK it sends before closing the connection.
 */
export class MqttProtocolError extends Error {
  readonly reasonCode: number;
  constructor(message: string, reasonCode: number = ReasonCode.MalformedPacket) {
    super(message);
    this.name = 'MqttProtocolError';
    this.reasonCode = reasonCode;
  }
}

export const malformed = (message: string): MqttProtocolError =>
  new MqttProtocolError(message, ReasonCode.MalformedPacket);

export const protocolError = (message: string): MqttProtocolError =>
  new MqttProtocolError(message, ReasonCode.ProtocolError);
