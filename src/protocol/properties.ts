// The MQTT 5 property table (section 2.2.2.2, Table 2-4): for each property its identifier, wire
// type, the places it may appear and whether it may repeat there. The property reader and
// writer are driven by this table, so what the codec accepts and what it sends cannot drift apart.

import type { Properties } from './packets.js';
import { PacketType } from './packets.js';

export const PropertyType = {
  Byte: 1,
  TwoByteInteger: 2,
  FourByteInteger: 3,
  VariableByteInteger: 4,
  Utf8String: 5,
  BinaryData: 6,
  Utf8StringPair: 7,
} as const;
export type PropertyType = (typeof PropertyType)[keyof typeof PropertyType];

/**
 * Where a property block sits: the packet type (1-15), or WILL_PROPERTIES for the will
 * properties of a CONNECT. Packet type 0 is reserved, so 0 is free to name the will.
 */
export const WILL_PROPERTIES = 0;
export type PropertyContext = number;

export interface PropertyDefinition {
  readonly id: number;
  readonly name: keyof Properties;
  /** The spec's name, for error messages. */
  readonly label: string;
  readonly type: PropertyType;
  /** Bit set over contexts: bit n set means the property may appear in context n. */
  readonly allowedIn: number;
  /** Bit set over contexts where it may appear more than once. */
  readonly repeatableIn: number;
  /** Smallest and largest value the spec allows for a numeric property; outside is a Protocol Error. */
  readonly min: number;
  readonly max: number;
  /** Position in the table, used as a bit in the reader's seen-set to catch repeats. */
  readonly index: number;
}

const bit = (context: number): number => 1 << context;
const T = PacketType;
const WILL = bit(WILL_PROPERTIES);
const MESSAGE = bit(T.PUBLISH) | WILL;
const CONNECTION = bit(T.CONNECT) | bit(T.CONNACK);
/** Reason String may be in every packet that carries a reason code. */
const REASONED =
  bit(T.CONNACK) | bit(T.PUBACK) | bit(T.PUBREC) | bit(T.PUBREL) | bit(T.PUBCOMP) |
  bit(T.SUBACK) | bit(T.UNSUBACK) | bit(T.DISCONNECT) | bit(T.AUTH);
const EVERYWHERE =
  REASONED | bit(T.CONNECT) | bit(T.PUBLISH) | WILL | bit(T.SUBSCRIBE) | bit(T.UNSUBSCRIBE);

const VBI_MAX = 268_435_455;
const TYPE_MAX: Record<PropertyType, number> = {
  [PropertyType.Byte]: 0xff,
  [PropertyType.TwoByteInteger]: 0xffff,
  [PropertyType.FourByteInteger]: 0xffff_ffff,
  [PropertyType.VariableByteInteger]: VBI_MAX,
  [PropertyType.Utf8String]: 0,
  [PropertyType.BinaryData]: 0,
  [PropertyType.Utf8StringPair]: 0,
};

type Row = [id: number, name: keyof Properties, label: string, type: PropertyType, allowedIn: number,
  options?: { repeatableIn?: number; min?: number; max?: number }];

// Value limits are those the spec calls a Protocol Error: "a value other than 0 or 1",
// "the value 0", Subscription Identifier 0 (sections 3.1.2.11, 3.2.2.3, 3.3.2.3, 3.8.2.1).
// Payload Format Indicator has only the values 0 and 1 defined (3.3.2.3.2); we treat any other
// value the same way, as a Protocol Error.
const P = PropertyType;
const ROWS: Row[] = [
  [0x01, 'payloadFormatIndicator', 'Payload Format Indicator', P.Byte, MESSAGE, { max: 1 }],
  [0x02, 'messageExpiryInterval', 'Message Expiry Interval', P.FourByteInteger, MESSAGE],
  [0x03, 'contentType', 'Content Type', P.Utf8String, MESSAGE],
  [0x08, 'responseTopic', 'Response Topic', P.Utf8String, MESSAGE],
  [0x09, 'correlationData', 'Correlation Data', P.BinaryData, MESSAGE],
  [0x0b, 'subscriptionIdentifiers', 'Subscription Identifier', P.VariableByteInteger,
    bit(T.PUBLISH) | bit(T.SUBSCRIBE), { repeatableIn: bit(T.PUBLISH), min: 1 }],
  [0x11, 'sessionExpiryInterval', 'Session Expiry Interval', P.FourByteInteger, CONNECTION | bit(T.DISCONNECT)],
  [0x12, 'assignedClientIdentifier', 'Assigned Client Identifier', P.Utf8String, bit(T.CONNACK)],
  [0x13, 'serverKeepAlive', 'Server Keep Alive', P.TwoByteInteger, bit(T.CONNACK)],
  [0x15, 'authenticationMethod', 'Authentication Method', P.Utf8String, CONNECTION | bit(T.AUTH)],
  [0x16, 'authenticationData', 'Authentication Data', P.BinaryData, CONNECTION | bit(T.AUTH)],
  [0x17, 'requestProblemInformation', 'Request Problem Information', P.Byte, bit(T.CONNECT), { max: 1 }],
  [0x18, 'willDelayInterval', 'Will Delay Interval', P.FourByteInteger, WILL],
  [0x19, 'requestResponseInformation', 'Request Response Information', P.Byte, bit(T.CONNECT), { max: 1 }],
  [0x1a, 'responseInformation', 'Response Information', P.Utf8String, bit(T.CONNACK)],
  [0x1c, 'serverReference', 'Server Reference', P.Utf8String, bit(T.CONNACK) | bit(T.DISCONNECT)],
  [0x1f, 'reasonString', 'Reason String', P.Utf8String, REASONED],
  [0x21, 'receiveMaximum', 'Receive Maximum', P.TwoByteInteger, CONNECTION, { min: 1 }],
  [0x22, 'topicAliasMaximum', 'Topic Alias Maximum', P.TwoByteInteger, CONNECTION],
  // Topic Alias 0 is a Protocol Error too, but whether an alias is acceptable depends on the
  // connection's Topic Alias Maximum, so the broker judges it (0 included).
  [0x23, 'topicAlias', 'Topic Alias', P.TwoByteInteger, bit(T.PUBLISH)],
  [0x24, 'maximumQoS', 'Maximum QoS', P.Byte, bit(T.CONNACK), { max: 1 }],
  [0x25, 'retainAvailable', 'Retain Available', P.Byte, bit(T.CONNACK), { max: 1 }],
  [0x26, 'userProperties', 'User Property', P.Utf8StringPair, EVERYWHERE, { repeatableIn: EVERYWHERE }],
  [0x27, 'maximumPacketSize', 'Maximum Packet Size', P.FourByteInteger, CONNECTION, { min: 1 }],
  [0x28, 'wildcardSubscriptionAvailable', 'Wildcard Subscription Available', P.Byte, bit(T.CONNACK), { max: 1 }],
  [0x29, 'subscriptionIdentifierAvailable', 'Subscription Identifier Available', P.Byte, bit(T.CONNACK), { max: 1 }],
  [0x2a, 'sharedSubscriptionAvailable', 'Shared Subscription Available', P.Byte, bit(T.CONNACK), { max: 1 }],
];

export const PROPERTY_DEFINITIONS: readonly PropertyDefinition[] = ROWS.map(
  ([id, name, label, type, allowedIn, options], index) => ({
    id,
    name,
    label,
    type,
    allowedIn,
    repeatableIn: options?.repeatableIn ?? 0,
    min: options?.min ?? 0,
    max: options?.max ?? TYPE_MAX[type],
    index,
  }),
);

/** Indexed by identifier; undefined for identifiers the spec does not define. */
export const PROPERTY_BY_ID: readonly (PropertyDefinition | undefined)[] = (() => {
  const table: (PropertyDefinition | undefined)[] = new Array(256).fill(undefined);
  for (const def of PROPERTY_DEFINITIONS) table[def.id] = def;
  return table;
})();

export const PROPERTY_BY_NAME: ReadonlyMap<string, PropertyDefinition> = new Map(
  PROPERTY_DEFINITIONS.map((def) => [def.name, def]),
);

const CONTEXT_NAMES = [
  'Will Properties', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP',
  'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH',
];

export const contextName = (context: PropertyContext): string => CONTEXT_NAMES[context] ?? `context ${context}`;

export const isAllowedIn = (def: PropertyDefinition, context: PropertyContext): boolean =>
  (def.allowedIn & bit(context)) !== 0;

export const isRepeatableIn = (def: PropertyDefinition, context: PropertyContext): boolean =>
  (def.repeatableIn & bit(context)) !== 0;
