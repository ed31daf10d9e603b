// fast-check generators of valid packets of every type and version, in the form the decoder
// returns. `compatible` narrows them to what mqtt-packet can also handle (see the exclusions in
// differential.test.ts); everything it excludes is still valid MQTT.
import fc from 'fast-check';
import type {
  Packet, Properties, ProtocolVersion, QoS, Subscription, UserProperty,
} from '../../../src/protocol/index.js';
import { PROPERTY_DEFINITIONS, PropertyType, WILL_PROPERTIES } from '../../../src/protocol/index.js';

/** MQTT strings: any Unicode except U+0000, mostly ASCII. */
export const mqttString = (maxLength = 12): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength }) },
  ).map((s) => s.replaceAll('\u0000', '0'));

export const nonEmptyString = (maxLength = 12): fc.Arbitrary<string> =>
  mqttString(maxLength).map((s) => (s.length === 0 ? 'x' : s));

export const bytes = (maxLength = 64): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

const packetId = fc.integer({ min: 1, max: 0xffff });
const qos = fc.constantFrom<QoS>(0, 1, 2);

function valueOf(def: (typeof PROPERTY_DEFINITIONS)[number], context: number): fc.Arbitrary<unknown> {
  const repeatable = (def.repeatableIn & (1 << context)) !== 0;
  switch (def.type) {
    case PropertyType.Byte:
    case PropertyType.TwoByteInteger:
    case PropertyType.FourByteInteger:
      return fc.integer({ min: def.min, max: def.max });
    case PropertyType.VariableByteInteger:
      return fc.array(fc.integer({ min: def.min, max: def.max }), { minLength: 1, maxLength: repeatable ? 3 : 1 });
    case PropertyType.Utf8String:
      return mqttString();
    case PropertyType.BinaryData:
      return bytes(16);
    case PropertyType.Utf8StringPair:
      // Values are not empty: mqtt-packet drops an empty first value of a repeated name.
      return fc.array(fc.tuple(mqttString(6), nonEmptyString(6)).map((t): UserProperty => [t[0], t[1]]),
        { minLength: 1, maxLength: 3 });
  }
}

/** A random subset of the properties allowed in `context`; undefined when empty. */
export function properties(context: number): fc.Arbitrary<Properties | undefined> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const def of PROPERTY_DEFINITIONS) {
    if ((def.allowedIn & (1 << context)) !== 0) model[def.name] = valueOf(def, context);
  }
  // fc.record makes objects without a prototype; spread them into plain ones for deepEqual.
  return fc.record(model, { requiredKeys: [] }).map((p) => (Object.keys(p).length === 0 ? undefined : ({ ...p } as Properties)));
}

const withProperties = <T extends object>(packet: T, props: Properties | undefined): T =>
  props === undefined ? packet : { ...packet, properties: props };

const CONNACK_V5 = [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99,
  0x9a, 0x9b, 0x9c, 0x9d, 0x9f];
const PUBACK_V5 = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_V5 = [0x00, 0x92];
const SUBACK_V5 = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2];
const UNSUBACK_V5 = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
const DISCONNECT_V5 = [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96,
  0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2];

function connect(version: ProtocolVersion): fc.Arbitrary<Packet> {
  const v5 = version === 5;
  const will = fc.record({
    topic: nonEmptyString(),
    payload: bytes(32),
    qos,
    retain: fc.boolean(),
    properties: v5 ? properties(WILL_PROPERTIES) : fc.constant(undefined),
  }).map(({ properties: p, ...w }) => withProperties(w, p));
  return fc.record({
    cleanStart: fc.boolean(),
    keepAlive: fc.integer({ min: 0, max: 0xffff }),
    // 3.1 needs a client id; mqtt-packet insists on a clean session for an empty one.
    clientId: version === 3 ? nonEmptyString(23) : mqttString(23),
    will: fc.option(will, { nil: undefined }),
    username: fc.option(mqttString(), { nil: undefined }),
    password: fc.option(bytes(16), { nil: undefined }),
    properties: v5 ? properties(1) : fc.constant(undefined),
  }).map((r) => {
    const p: Packet = {
      type: 1, protocolName: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version,
      cleanStart: r.clientId === '' ? true : r.cleanStart, keepAlive: r.keepAlive, clientId: r.clientId,
    };
    if (r.properties) p.properties = r.properties;
    if (r.will) p.will = r.will;
    if (r.username !== undefined) p.username = r.username;
    // Only with a user name: required before 5.0, and mqtt-packet requires it in 5.0 too.
    if (r.username !== undefined && r.password !== undefined) p.password = r.password;
    return p;
  });
}

function connack(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc.record({
    sessionPresent: fc.boolean(),
    reasonCode: fc.constantFrom(...(version === 5 ? CONNACK_V5 : [0, 1, 2, 3, 4, 5])),
    properties: version === 5 ? properties(2) : fc.constant(undefined),
  }).map((r) => withProperties<Packet>({ type: 2, sessionPresent: r.reasonCode === 0 && r.sessionPresent, reasonCode: r.reasonCode },
    r.properties));
}

function publish(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc.record({
    topic: mqttString(20),
    payload: bytes(200),
    qos,
    retain: fc.boolean(),
    dup: fc.boolean(),
    packetId,
    properties: version === 5 ? properties(3) : fc.constant(undefined),
  }).map((r) => {
    const p: Packet = { type: 3, topic: r.topic, payload: r.payload, qos: r.qos, retain: r.retain, dup: r.qos > 0 && r.dup };
    if (r.qos > 0) p.packetId = r.packetId;
    return withProperties(p, r.properties);
  });
}

function ack(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc.constantFrom<4 | 5 | 6 | 7>(4, 5, 6, 7).chain((type) => fc.record({
    packetId,
    reasonCode: fc.constantFrom(...(type <= 5 ? PUBACK_V5 : PUBREL_V5)),
    properties: version === 5 ? properties(type) : fc.constant(undefined),
  }).map((r): Packet => (version === 5
    ? withProperties({ type, packetId: r.packetId, reasonCode: r.reasonCode }, r.properties)
    : { type, packetId: r.packetId })));
}

function subscribe(version: ProtocolVersion): fc.Arbitrary<Packet> {
  const v5 = version === 5;
  const subscription: fc.Arbitrary<Subscription> = fc.record({
    topicFilter: nonEmptyString(16),
    qos,
    noLocal: v5 ? fc.boolean() : fc.constant(false),
    retainAsPublished: v5 ? fc.boolean() : fc.constant(false),
    retainHandling: v5 ? fc.constantFrom<0 | 1 | 2>(0, 1, 2) : fc.constant<0>(0),
  }).map((s) => ({ ...s }));
  return fc.record({
    packetId,
    subscriptions: fc.array(subscription, { minLength: 1, maxLength: 4 }),
    properties: v5 ? properties(8) : fc.constant(undefined),
  }).map((r) => withProperties<Packet>({ type: 8, packetId: r.packetId, subscriptions: r.subscriptions }, r.properties));
}

function suback(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc.record({
    packetId,
    reasonCodes: fc.array(fc.constantFrom(...(version === 5 ? SUBACK_V5 : [0, 1, 2, 0x80])), { minLength: 1, maxLength: 4 }),
    properties: version === 5 ? properties(9) : fc.constant(undefined),
  }).map((r) => withProperties<Packet>({ type: 9, packetId: r.packetId, reasonCodes: r.reasonCodes }, r.properties));
}

function unsubscribe(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc.record({
    packetId,
    topicFilters: fc.array(nonEmptyString(16), { minLength: 1, maxLength: 4 }),
    properties: version === 5 ? properties(10) : fc.constant(undefined),
  }).map((r) => withProperties<Packet>({ type: 10, packetId: r.packetId, topicFilters: r.topicFilters }, r.properties));
}

function unsuback(version: ProtocolVersion): fc.Arbitrary<Packet> {
  if (version !== 5) return packetId.map((id): Packet => ({ type: 11, packetId: id }));
  return fc.record({
    packetId,
    reasonCodes: fc.array(fc.constantFrom(...UNSUBACK_V5), { minLength: 1, maxLength: 4 }),
    properties: properties(11),
  }).map((r) => withProperties<Packet>({ type: 11, packetId: r.packetId, reasonCodes: r.reasonCodes }, r.properties));
}

function disconnect(version: ProtocolVersion): fc.Arbitrary<Packet> {
  if (version !== 5) return fc.constant<Packet>({ type: 14 });
  return fc.record({ reasonCode: fc.constantFrom(...DISCONNECT_V5), properties: properties(14) })
    .map((r) => withProperties<Packet>({ type: 14, reasonCode: r.reasonCode }, r.properties));
}

function auth(): fc.Arbitrary<Packet> {
  return fc.record({ reasonCode: fc.constantFrom(0x00, 0x18, 0x19), properties: properties(15) })
    .map((r) => withProperties<Packet>({ type: 15, reasonCode: r.reasonCode }, r.properties));
}

/** Any valid packet of protocol level `version`. */
export function packet(version: ProtocolVersion): fc.Arbitrary<Packet> {
  const list: fc.Arbitrary<Packet>[] = [
    connect(version), connack(version), publish(version), publish(version), ack(version), subscribe(version),
    suback(version), unsubscribe(version), unsuback(version), fc.constant<Packet>({ type: 12 }),
    fc.constant<Packet>({ type: 13 }), disconnect(version),
  ];
  if (version === 5) list.push(auth());
  return fc.oneof(...list);
}

/** A version and a packet of that version. */
export const versionedPacket: fc.Arbitrary<{ version: ProtocolVersion; packet: Packet }> = fc
  .constantFrom<ProtocolVersion>(3, 4, 5)
  .chain((version) => packet(version).map((p) => ({ version, packet: p })));
