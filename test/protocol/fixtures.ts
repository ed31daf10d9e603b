// A shared corpus of valid packets, every type in every protocol level, for codec tests and for
// broker tests that want real packets. Each packet is in the exact form the decoder returns, so
// decode(encode(p)) deep-equals p. Version 5 packets come in a bare form and in a form carrying
// every property the packet allows (see allProperties).
import type { Packet, Properties, ProtocolVersion } from '../../src/protocol/index.js';
import { PROPERTY_DEFINITIONS, PropertyType, WILL_PROPERTIES } from '../../src/protocol/index.js';

export interface PacketFixture {
  name: string;
  version: ProtocolVersion;
  packet: Packet;
}

export const VERSIONS: readonly ProtocolVersion[] = [3, 4, 5];

/**
 * Every property allowed in `context` (a packet type, or WILL_PROPERTIES), with a value of the
 * right type that the spec allows. Repeatable properties appear twice, so repeats are covered.
 */
export function allProperties(context: number): Properties {
  const properties: Record<string, unknown> = {};
  for (const def of PROPERTY_DEFINITIONS) {
    if ((def.allowedIn & (1 << context)) === 0) continue;
    const repeat = (def.repeatableIn & (1 << context)) !== 0;
    switch (def.type) {
      case PropertyType.Byte:
        properties[def.name] = def.max;
        break;
      case PropertyType.TwoByteInteger:
        properties[def.name] = 0x1234;
        break;
      case PropertyType.FourByteInteger:
        properties[def.name] = 0x89abcdef;
        break;
      case PropertyType.VariableByteInteger:
        properties[def.name] = repeat ? [1, 268_435_455] : [16_384];
        break;
      case PropertyType.Utf8String:
        properties[def.name] = `${def.label} ü`;
        break;
      case PropertyType.BinaryData:
        properties[def.name] = Buffer.from([0, 1, 2, 0xff]);
        break;
      case PropertyType.Utf8StringPair:
        // Same name twice, and order to keep: user properties are a list, not a map.
        properties[def.name] = [['region', 'eu'], ['tier', 'gold'], ['region', 'us']];
        break;
    }
  }
  return properties as Properties;
}

const bytes = (text: string): Buffer => Buffer.from(text);

function common(version: ProtocolVersion): PacketFixture[] {
  const name = version === 3 ? 'MQIsdp' : 'MQTT';
  const v5 = version === 5;
  const ack = (type: 4 | 5 | 6 | 7): Packet => (v5 ? { type, packetId: 7, reasonCode: 0 } : { type, packetId: 7 });
  const list: [string, Packet][] = [
    ['CONNECT minimal', {
      type: 1, protocolName: name, protocolVersion: version, cleanStart: true, keepAlive: 60, clientId: 'client-1',
    }],
    ['CONNECT with will, user name and password', {
      type: 1, protocolName: name, protocolVersion: version, cleanStart: false, keepAlive: 0, clientId: 'dev/ü',
      will: { topic: 'status/dev', payload: bytes('offline'), qos: 2, retain: true },
      username: 'alice', password: Buffer.from([0, 0xff, 0x10]),
    }],
    ['CONNECT with will QoS 1, no retain, empty will payload', {
      type: 1, protocolName: name, protocolVersion: version, cleanStart: true, keepAlive: 65535, clientId: 'c',
      will: { topic: 'w', payload: Buffer.alloc(0), qos: 1, retain: false },
    }],
    ['CONNACK accepted with session', { type: 2, sessionPresent: true, reasonCode: 0 }],
    ['CONNACK refused', { type: 2, sessionPresent: false, reasonCode: v5 ? 0x86 : 4 }],
    ['PUBLISH QoS 0', { type: 3, topic: 'a/b', payload: bytes('hello'), qos: 0, retain: false, dup: false }],
    ['PUBLISH QoS 0 retained, empty payload', { type: 3, topic: 'a/b', payload: Buffer.alloc(0), qos: 0, retain: true, dup: false }],
    ['PUBLISH QoS 1', { type: 3, topic: 'sensors/1/temp', payload: bytes('21.5'), qos: 1, retain: false, dup: false, packetId: 1 }],
    ['PUBLISH QoS 2 DUP retained', { type: 3, topic: 'ü/€/𝄞', payload: Buffer.alloc(300, 7), qos: 2, retain: true, dup: true, packetId: 65535 }],
    ['PUBACK', ack(4)],
    ['PUBREC', ack(5)],
    ['PUBREL', ack(6)],
    ['PUBCOMP', ack(7)],
    ['SUBSCRIBE', { type: 8, packetId: 2, subscriptions: [
      { topicFilter: 'a/+/c', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      { topicFilter: '#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    ] }],
    ['SUBACK', { type: 9, packetId: 2, reasonCodes: [0, 1, 2, 0x80] }],
    ['UNSUBSCRIBE', { type: 10, packetId: 3, topicFilters: ['a/+/c', '#'] }],
    ['UNSUBACK', v5 ? { type: 11, packetId: 3, reasonCodes: [0, 0x11] } : { type: 11, packetId: 3 }],
    ['PINGREQ', { type: 12 }],
    ['PINGRESP', { type: 13 }],
    ['DISCONNECT', v5 ? { type: 14, reasonCode: 0 } : { type: 14 }],
  ];
  return list.map(([label, packet]) => ({ name: `${label} (v${version === 4 ? '3.1.1' : version === 3 ? '3.1' : '5'})`, version, packet }));
}

/** MQTT 5 only: reason codes, properties, subscription options, AUTH. */
function onlyV5(): PacketFixture[] {
  const list: [string, Packet][] = [
    ['CONNECT with every property and every will property', {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, cleanStart: true, keepAlive: 30, clientId: '',
      properties: allProperties(1),
      will: { topic: 'w/t', payload: bytes('bye'), qos: 1, retain: false, properties: allProperties(WILL_PROPERTIES) },
      username: 'u', password: bytes('p'),
    }],
    ['CONNECT with a password and no user name', {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, cleanStart: true, keepAlive: 30, clientId: 'x', password: bytes('token'),
    }],
    ['CONNACK with every property', { type: 2, sessionPresent: false, reasonCode: 0, properties: allProperties(2) }],
    ['PUBLISH QoS 1 with every property', {
      type: 3, topic: 'a', payload: bytes('{}'), qos: 1, retain: false, dup: false, packetId: 9, properties: allProperties(3),
    }],
    ['PUBLISH with an empty topic and a topic alias', {
      type: 3, topic: '', payload: bytes('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 },
    }],
    ['PUBACK with a reason code only', { type: 4, packetId: 7, reasonCode: 0x10 }],
    ['PUBACK with every property', { type: 4, packetId: 7, reasonCode: 0x87, properties: allProperties(4) }],
    ['PUBREC with every property', { type: 5, packetId: 7, reasonCode: 0x80, properties: allProperties(5) }],
    ['PUBREL with a reason code only', { type: 6, packetId: 7, reasonCode: 0x92 }],
    ['PUBREL with every property', { type: 6, packetId: 7, reasonCode: 0, properties: allProperties(6) }],
    ['PUBCOMP with every property', { type: 7, packetId: 7, reasonCode: 0x92, properties: allProperties(7) }],
    ['SUBSCRIBE with options and every property', { type: 8, packetId: 4, properties: allProperties(8), subscriptions: [
      { topicFilter: '$share/g/a/#', qos: 1, noLocal: false, retainAsPublished: true, retainHandling: 2 },
      { topicFilter: 'b', qos: 2, noLocal: true, retainAsPublished: false, retainHandling: 1 },
    ] }],
    ['SUBACK with every property', { type: 9, packetId: 4, reasonCodes: [1, 0x9e, 0xa1, 0xa2], properties: allProperties(9) }],
    ['UNSUBSCRIBE with every property', { type: 10, packetId: 5, topicFilters: ['a'], properties: allProperties(10) }],
    ['UNSUBACK with every property', { type: 11, packetId: 5, reasonCodes: [0x8f], properties: allProperties(11) }],
    ['DISCONNECT with a reason code only', { type: 14, reasonCode: 0x04 }],
    ['DISCONNECT with every property', { type: 14, reasonCode: 0x8b, properties: allProperties(14) }],
    ['AUTH success', { type: 15, reasonCode: 0 }],
    ['AUTH with every property', { type: 15, reasonCode: 0x18, properties: allProperties(15) }],
    ['AUTH re-authenticate', { type: 15, reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-1' } }],
  ];
  return list.map(([label, packet]) => ({ name: `${label} (v5)`, version: 5, packet }));
}

/** Valid packets of one protocol level. */
export function fixturesFor(version: ProtocolVersion): PacketFixture[] {
  return version === 5 ? [...common(5), ...onlyV5()] : common(version);
}

export const ALL_FIXTURES: readonly PacketFixture[] = VERSIONS.flatMap(fixturesFor);

export interface ByteFixture {
  name: string;
  version: ProtocolVersion;
  packet: Packet;
  /** The packet's bytes, written out by hand from the spec's figures. */
  hex: string;
}

/** Hand-derived wire forms, checked in both directions. Spaces in `hex` are for reading only. */
export const BYTE_FIXTURES: readonly ByteFixture[] = [
  {
    name: 'CONNECT clean session, keep alive 60, client id "client-1" (v3.1.1)',
    version: 4,
    packet: { type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 60, clientId: 'client-1' },
    // 10 | remaining 20 | "MQTT" | level 4 | flags: clean | keep alive 60 | client id
    hex: '10 14 0004 4d515454 04 02 003c 0008 636c69656e742d31',
  },
  {
    name: 'CONNECT with will QoS 1, user name and password (v3.1)',
    version: 3,
    packet: {
      type: 1, protocolName: 'MQIsdp', protocolVersion: 3, cleanStart: true, keepAlive: 10, clientId: 'c',
      will: { topic: 'w/t', payload: bytes('bye'), qos: 1, retain: false }, username: 'u', password: bytes('pw'),
    },
    // flags 0xce: user name, password, will QoS 1, will, clean session
    hex: '10 20 0006 4d5149736470 03 ce 000a 0001 63 0003 772f74 0003 627965 0001 75 0002 7077',
  },
  {
    name: 'PUBLISH QoS 1 retained, packet id 10 (v3.1.1)',
    version: 4,
    packet: { type: 3, topic: 'a/b', payload: bytes('hi'), qos: 1, retain: true, dup: false, packetId: 10 },
    hex: '33 09 0003 612f62 000a 6869',
  },
  {
    name: 'PUBLISH with a 200-byte payload needs a two-byte Remaining Length (v3.1.1)',
    version: 4,
    packet: { type: 3, topic: 't', payload: Buffer.alloc(200, 0xaa), qos: 0, retain: false, dup: false },
    // 203 = 0x4b + 1 * 128: bytes cb 01
    hex: `30 cb01 0001 74 ${'aa'.repeat(200)}`,
  },
  {
    name: 'CONNACK with properties (v5)',
    version: 5,
    packet: {
      type: 2, sessionPresent: false, reasonCode: 0,
      properties: { sessionExpiryInterval: 60, receiveMaximum: 20, maximumQoS: 1, assignedClientIdentifier: 'abc', topicAliasMaximum: 10 },
    },
    // flags 0 | reason 0 | property length 19 | 11: 60 | 21: 20 | 24: 1 | 12: "abc" | 22: 10
    hex: '20 16 00 00 13 11 0000003c 21 0014 24 01 12 0003 616263 22 000a',
  },
  {
    name: 'PUBLISH with topic alias and user property (v5)',
    version: 5,
    packet: {
      type: 3, topic: 't', payload: bytes('x'), qos: 0, retain: false, dup: false,
      properties: { topicAlias: 1, userProperties: [['k', 'v']] },
    },
    hex: '30 0f 0001 74 0a 23 0001 26 0001 6b 0001 76 78',
  },
  { name: 'PUBACK success, short form (v5)', version: 5, packet: { type: 4, packetId: 5, reasonCode: 0 }, hex: '40 02 0005' },
  {
    name: 'PUBACK no matching subscribers, reason code only (v5)',
    version: 5,
    packet: { type: 4, packetId: 5, reasonCode: 0x10 },
    hex: '40 03 0005 10',
  },
  { name: 'PUBREL (v3.1.1)', version: 4, packet: { type: 6, packetId: 7 }, hex: '62 02 0007' },
  {
    name: 'SUBSCRIBE two filters (v3.1.1)',
    version: 4,
    packet: { type: 8, packetId: 1, subscriptions: [
      { topicFilter: 'a/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      { topicFilter: 'b', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    ] },
    hex: '82 0c 0001 0003 612f23 01 0001 62 00',
  },
  {
    name: 'SUBSCRIBE with subscription identifier 129 and all options (v5)',
    version: 5,
    packet: {
      type: 8, packetId: 2, properties: { subscriptionIdentifiers: [129] },
      subscriptions: [{ topicFilter: 'x', qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 }],
    },
    // 129 as a Variable Byte Integer is 81 01; options 0x2e = QoS 2 | No Local | RAP | RH 2
    hex: '82 0a 0002 03 0b 8101 0001 78 2e',
  },
  { name: 'SUBACK (v3.1.1)', version: 4, packet: { type: 9, packetId: 1, reasonCodes: [1, 0x80] }, hex: '90 04 0001 01 80' },
  { name: 'UNSUBACK (v3.1.1)', version: 4, packet: { type: 11, packetId: 3 }, hex: 'b0 02 0003' },
  { name: 'UNSUBACK (v5)', version: 5, packet: { type: 11, packetId: 3, reasonCodes: [0, 0x11] }, hex: 'b0 05 0003 00 00 11' },
  { name: 'PINGREQ (v3.1.1)', version: 4, packet: { type: 12 }, hex: 'c0 00' },
  { name: 'PINGRESP (v5)', version: 5, packet: { type: 13 }, hex: 'd0 00' },
  { name: 'DISCONNECT normal, short form (v5)', version: 5, packet: { type: 14, reasonCode: 0 }, hex: 'e0 00' },
  { name: 'DISCONNECT with will message (v5)', version: 5, packet: { type: 14, reasonCode: 4 }, hex: 'e0 01 04' },
  { name: 'DISCONNECT (v3.1.1)', version: 4, packet: { type: 14 }, hex: 'e0 00' },
  { name: 'AUTH success, short form (v5)', version: 5, packet: { type: 15, reasonCode: 0 }, hex: 'f0 00' },
  {
    name: 'AUTH continue with a method (v5)',
    version: 5,
    packet: { type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'abc' } },
    hex: 'f0 08 18 06 15 0003 616263',
  },
];

export const fromHex = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
