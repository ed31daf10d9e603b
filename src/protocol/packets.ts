// The typed form of every MQTT control packet, shared by the decoder, the encoder and the broker.
// One shape serves protocol levels 3 (MQTT 3.1), 4 (3.1.1) and 5 (5.0): fields that exist only
// in 5.0 (reason codes on acks, properties) are optional and ignored when encoding for 3/4.

export type ProtocolVersion = 3 | 4 | 5;
export type QoS = 0 | 1 | 2;

export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

export type UserProperty = [name: string, value: string];

/** MQTT 5 properties, by name. Each appears only in the packets the 5.0 spec allows (see properties.ts). */
export interface Properties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  /** PUBLISH may carry several; SUBSCRIBE at most one. */
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Buffer;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: number;
  /** In wire order; names may repeat. */
  userProperties?: UserProperty[];
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifierAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** 5.0 will properties (will delay, message expiry, content type, ...). */
  properties?: Properties;
}

export interface ConnectPacket {
  type: 1;
  /** 'MQIsdp' for level 3, 'MQTT' for 4 and 5. */
  protocolName: string;
  protocolVersion: ProtocolVersion;
  /** Clean Session in 3.1/3.1.1, Clean Start in 5.0. */
  cleanStart: boolean;
  keepAlive: number;
  clientId: string;
  will?: Will;
  username?: string;
  password?: Buffer;
  properties?: Properties;
}

export interface ConnackPacket {
  type: 2;
  sessionPresent: boolean;
  /** Return code in 3.1/3.1.1 (0-5), reason code in 5.0. */
  reasonCode: number;
  properties?: Properties;
}

export interface PublishPacket {
  type: 3;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Present when qos > 0. */
  packetId?: number;
  properties?: Properties;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP share one shape. */
export interface AckPacket {
  type: 4 | 5 | 6 | 7;
  packetId: number;
  /** 5.0 only; 0 (success) when absent. */
  reasonCode?: number;
  properties?: Properties;
}
export type PubackPacket = AckPacket & { type: 4 };
export type PubrecPacket = AckPacket & { type: 5 };
export type PubrelPacket = AckPacket & { type: 6 };
export type PubcompPacket = AckPacket & { type: 7 };

export interface Subscription {
  topicFilter: string;
  qos: QoS;
  /** 5.0 subscription options; false / 0 for 3.1/3.1.1. */
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
}

export interface SubscribePacket {
  type: 8;
  packetId: number;
  subscriptions: Subscription[];
  properties?: Properties;
}

export interface SubackPacket {
  type: 9;
  packetId: number;
  /** Granted QoS (0-2) or a failure code (0x80 in 3.1.1, >= 0x80 in 5.0), one per filter. */
  reasonCodes: number[];
  properties?: Properties;
}

export interface UnsubscribePacket {
  type: 10;
  packetId: number;
  topicFilters: string[];
  properties?: Properties;
}

export interface UnsubackPacket {
  type: 11;
  packetId: number;
  /** 5.0 only: one per filter. */
  reasonCodes?: number[];
  properties?: Properties;
}

export interface PingreqPacket {
  type: 12;
}

export interface PingrespPacket {
  type: 13;
}

export interface DisconnectPacket {
  type: 14;
  /** 5.0 only; 0 (normal disconnection) when absent. */
  reasonCode?: number;
  properties?: Properties;
}

export interface AuthPacket {
  type: 15;
  /** 0 (success) when absent. */
  reasonCode?: number;
  properties?: Properties;
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;
