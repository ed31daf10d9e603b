// Packets the decoder must refuse, each with the reason code it must give: 0x81 Malformed
// Packet, 0x82 Protocol Error, 0x84 Unsupported Protocol Version. Names start with the spec
// statement they check, if there is one, and always say the version.
import type { ProtocolVersion } from '../../src/protocol/index.js';

export interface MalformedCase {
  name: string;
  version: ProtocolVersion;
  bytes: Buffer;
  reasonCode: number;
}

const MALFORMED = 0x81;
const PROTOCOL_ERROR = 0x82;
const UNSUPPORTED_VERSION = 0x84;

const h = (text: string): string => text.replace(/\s+/g, '');
/** A length-prefixed string, as hex. */
const s = (text: string): string => {
  const b = Buffer.from(text);
  return b.length.toString(16).padStart(4, '0') + b.toString('hex');
};
/** A length-prefixed string of raw bytes given as hex. */
const sHex = (hex: string): string => (h(hex).length / 2).toString(16).padStart(4, '0') + h(hex);
const vbi = (n: number): string => {
  let out = '';
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out += byte.toString(16).padStart(2, '0');
  } while (n > 0);
  return out;
};
/** A packet with the right Remaining Length for `body`. */
const pkt = (byte0: number, body: string): Buffer =>
  Buffer.from(byte0.toString(16).padStart(2, '0') + vbi(h(body).length / 2) + h(body), 'hex');
const raw = (hex: string): Buffer => Buffer.from(h(hex), 'hex');
/** A property block holding `props` (hex). */
const props = (hex: string): string => vbi(h(hex).length / 2) + h(hex);

/** A CONNECT body: protocol name and level for `version`, then the given flags and the rest. */
const connect = (version: ProtocolVersion, flags: number, rest: string): Buffer =>
  pkt(0x10, (version === 3 ? s('MQIsdp') : s('MQTT')) + version.toString(16).padStart(2, '0') +
    flags.toString(16).padStart(2, '0') + '003c' + (version === 5 ? '00' : '') + h(rest));

/**
 * Statement ids whose numbers differ between 3.1.1 and 5.0. Each sits on a line naming its
 * version, so that spec_coverage.py counts it for the right one (the same id can mean another
 * thing in the other version). MQTT 3.1 is tested against the 3.1.1 ids.
 */
interface Ids {
  v311: string;
  v5: string;
}
const ID = {
  reservedFlags: {
    v311: '[MQTT-2.2.2-1][MQTT-2.2.2-2]',
    v5: '[MQTT-2.1.3-1]',
  },
  packetId: {
    v311: '[MQTT-2.3.1-1]',
    v5: '[MQTT-2.2.1-3]',
  },
  willQoSWithoutWill: {
    v311: '[MQTT-3.1.2-13]',
    v5: '[MQTT-3.1.2-11]',
  },
  willRetainWithoutWill: {
    v311: '[MQTT-3.1.2-15]',
    v5: '[MQTT-3.1.2-13]',
  },
  willQoS3: {
    v311: '[MQTT-3.1.2-14]',
    v5: '[MQTT-3.1.2-12]',
  },
  wellFormedUtf8: {
    v311: '[MQTT-1.5.3-1]',
    v5: '[MQTT-1.5.4-1]',
  },
  noNullCharacter: {
    v311: '[MQTT-1.5.3-2]',
    v5: '[MQTT-1.5.4-2]',
  },
  subscribeNeedsFilter: {
    v311: '[MQTT-3.8.3-3]',
    v5: '[MQTT-3.8.3-2]',
  },
} satisfies Record<string, Ids>;
const id = (ids: Ids, version: ProtocolVersion): string => (version === 5 ? ids.v5 : ids.v311);

const cases: MalformedCase[] = [];
const add = (name: string, version: ProtocolVersion, bytes: Buffer, reasonCode: number): void => {
  const label = version === 5 ? 'v5' : version === 4 ? 'v3.1.1' : 'v3.1';
  cases.push({ name: name.replace('{v}', `(${label})`), version, bytes, reasonCode });
};

// Fixed header: reserved flag bits.
for (const version of [4, 5] as const) {
  const flagsId = id(ID.reservedFlags, version);
  add(`${flagsId} {v} PUBACK with fixed header flags 0001`, version, raw('41 02 0001'), MALFORMED);
  add(`${flagsId} {v} CONNECT with fixed header flags 0010`, version, connect(version, 0x02, s('c')).fill(0x12, 0, 1), MALFORMED);
  add(`${flagsId} {v} PINGREQ with fixed header flags 1000`, version, raw('c8 00'), MALFORMED);
  add(`${flagsId} {v} SUBACK with fixed header flags 0010`, version, raw('92 03 0001 00'), MALFORMED);
  add(`[MQTT-3.6.1-1] {v} PUBREL with fixed header flags 0000`, version, raw('60 02 0001'), MALFORMED);
  add(`[MQTT-3.6.1-1] {v} PUBREL with fixed header flags 0011`, version, raw('63 02 0001'), MALFORMED);
  add(`[MQTT-3.8.1-1] {v} SUBSCRIBE with fixed header flags 0000`, version,
    pkt(0x80, `0001 ${version === 5 ? '00' : ''} ${s('a')} 00`), MALFORMED);
  add(`[MQTT-3.10.1-1] {v} UNSUBSCRIBE with fixed header flags 0000`, version,
    pkt(0xa0, `0001 ${version === 5 ? '00' : ''} ${s('a')}`), MALFORMED);
  add(`[MQTT-3.14.1-1] {v} DISCONNECT with fixed header flags 0001`, version, raw('e1 00'), MALFORMED);
  add(`[MQTT-3.3.1-4] {v} PUBLISH with QoS 3`, version, pkt(0x36, `${s('a')} 0001 ${version === 5 ? '00' : ''}`), MALFORMED);
  add(`[MQTT-3.3.1-2] {v} PUBLISH with DUP set on QoS 0`, version, pkt(0x38, `${s('a')} ${version === 5 ? '00' : ''}`), MALFORMED);
  add('{v} packet type 0 is reserved', version, raw('00 00'), MALFORMED);
}
add('[MQTT-3.15.1-1] {v} AUTH with fixed header flags 0001', 5, raw('f1 00'), MALFORMED);
add('[MQTT-2.2.2-2] {v} packet type 15 is reserved before 5.0', 4, raw('f0 00'), MALFORMED); // v3.1.1
add('[MQTT-2.2.2-2] {v} packet type 15 is reserved before 5.0', 3, raw('f0 00'), MALFORMED); // v3.1.1
add('[MQTT-3.6.1-1] {v} PUBREL with fixed header flags 0000', 3, raw('60 02 0001'), MALFORMED);

// Remaining Length and lengths inside the packet.
for (const version of [4, 5] as const) {
  add('{v} Remaining Length with a fifth byte', version, raw('30 ff ff ff ff 01'), MALFORMED);
  add('{v} PUBLISH whose topic runs past the Remaining Length', version, raw('30 03 0005 61'), MALFORMED);
  add('{v} PUBLISH too short for its topic length', version, raw('30 01 00'), MALFORMED);
  add('{v} PUBLISH QoS 1 too short for its packet identifier', version, pkt(0x32, `${s('a')} 00`), MALFORMED);
  add('{v} PINGREQ with a Remaining Length of 1', version, raw('c0 01 00'), MALFORMED);
  add('{v} PINGRESP with a Remaining Length of 1', version, raw('d0 01 00'), MALFORMED);
  add('{v} PUBACK with a Remaining Length of 1', version, raw('40 01 00'), MALFORMED);
  add('{v} SUBSCRIBE filter without its options byte', version, pkt(0x82, `0001 ${version === 5 ? '00' : ''} ${s('a')}`), MALFORMED);
  add('{v} CONNECT with bytes after the last field', version, connect(version, 0x02, `${s('c')} 00`), MALFORMED);
  add('[MQTT-3.1.4-1] {v} CONNECT with a user name flag and no user name', version, connect(version, 0x82, s('c')), MALFORMED);
  add('{v} CONNECT cut short in its protocol name', version, raw('10 03 0004 4d'), MALFORMED);
  add('{v} CONNECT cut short before its flags', version, raw('10 07 0004 4d515454 04'), MALFORMED);
}
add('[MQTT-1.5.5-1] {v} Remaining Length not in its shortest form', 5, raw('30 83 00 0001 61 00'), MALFORMED);
add('[MQTT-1.5.5-1] {v} Property Length not in its shortest form', 5, pkt(0x30, `${s('a')} 8000`), MALFORMED);
add('{v} PUBACK with trailing bytes', 4, raw('40 03 0001 00'), MALFORMED);
add('{v} PUBACK with trailing bytes', 3, raw('40 03 0001 00'), MALFORMED);
add('{v} DISCONNECT with a Remaining Length of 1', 4, raw('e0 01 00'), MALFORMED);
add('{v} CONNACK with a Remaining Length of 3', 4, raw('20 03 00 00 00'), MALFORMED);
add('{v} UNSUBACK with a Remaining Length of 3', 4, raw('b0 03 0001 00'), MALFORMED);
add('[MQTT-2.2.2-1] {v} CONNACK without a Property Length', 5, raw('20 02 00 00'), MALFORMED); // v5
add('[MQTT-2.2.2-1] {v} SUBSCRIBE without a Property Length', 5, pkt(0x82, `0001 ${s('a')} 00`), MALFORMED); // v5
add('[MQTT-3.2.2-1] {v} CONNACK with reserved acknowledge flags set', 5, raw('20 03 02 00 00'), MALFORMED); // v5
add('{v} CONNACK with reserved acknowledge flags set', 4, raw('20 02 80 00'), MALFORMED);
add('{v} PUBACK with properties running past the packet', 5, raw('40 05 0001 00 05 1f'), MALFORMED);
add('{v} DISCONNECT with properties and trailing bytes', 5, raw('e0 03 00 00 ff'), MALFORMED);

// Packet identifiers.
for (const version of [3, 4, 5] as const) {
  const idRule = id(ID.packetId, version);
  const pl = version === 5 ? '00' : '';
  add(`${idRule} {v} PUBLISH QoS 1 with Packet Identifier 0`, version, pkt(0x32, `${s('a')} 0000 ${pl} 6869`), PROTOCOL_ERROR);
  add(`${idRule} {v} PUBLISH QoS 2 with Packet Identifier 0`, version, pkt(0x34, `${s('a')} 0000 ${pl}`), PROTOCOL_ERROR);
  add(`${idRule} {v} SUBSCRIBE with Packet Identifier 0`, version, pkt(0x82, `0000 ${pl} ${s('a')} 00`), PROTOCOL_ERROR);
  add(`${idRule} {v} UNSUBSCRIBE with Packet Identifier 0`, version, pkt(0xa2, `0000 ${pl} ${s('a')}`), PROTOCOL_ERROR);
  add('{v} PUBACK with Packet Identifier 0', version, raw('40 02 0000'), PROTOCOL_ERROR);
  add('{v} PUBREL with Packet Identifier 0', version, raw('62 02 0000'), PROTOCOL_ERROR);
}

// CONNECT flags and protocol.
for (const version of [3, 4, 5] as const) {
  const v5 = version === 5;
  const will = `${v5 ? '00' : ''}${s('w')}${s('x')}`;
  add('[MQTT-3.1.2-3] {v} CONNECT with the reserved flag set', version, connect(version, 0x03, s('c')), MALFORMED);
  add(`${id(ID.willQoSWithoutWill, version)} {v} CONNECT with Will QoS 1 and no Will Flag`, version,
    connect(version, 0x0a, s('c')), MALFORMED);
  add(`${id(ID.willQoSWithoutWill, version)} {v} CONNECT with Will QoS 2 and no Will Flag`, version,
    connect(version, 0x12, s('c')), MALFORMED);
  add(`${id(ID.willRetainWithoutWill, version)} {v} CONNECT with Will Retain and no Will Flag`, version,
    connect(version, 0x22, s('c')), MALFORMED);
  add(`${id(ID.willQoS3, version)} {v} CONNECT with Will QoS 3`, version,
    connect(version, 0x1e, s('c') + will), MALFORMED);
  add('{v} CONNECT with a Will Flag and no will fields', version, connect(version, 0x06, s('c')), MALFORMED);
}
add('[MQTT-3.1.2-22] {v} CONNECT with a password and no user name', 4, connect(4, 0x42, s('c') + s('p')), MALFORMED); // v3.1.1
add('[MQTT-3.1.2-22] {v} CONNECT with a password and no user name', 3, connect(3, 0x42, s('c') + s('p')), MALFORMED); // v3.1.1
const badLevel = (name: string, level: number): Buffer => pkt(0x10, `${s(name)} ${level.toString(16).padStart(2, '0')} 02 003c ${s('c')}`);
add('[MQTT-3.1.2-2] {v} CONNECT with protocol level 6 is an unsupported version', 4, badLevel('MQTT', 6), UNSUPPORTED_VERSION);
add('[MQTT-3.1.2-2] {v} CONNECT with protocol level 0 is an unsupported version', 5, badLevel('MQTT', 0), UNSUPPORTED_VERSION);
add('[MQTT-3.1.2-1] {v} CONNECT with protocol name MQTX', 4, badLevel('MQTX', 4), UNSUPPORTED_VERSION);
add('[MQTT-3.1.2-1] {v} CONNECT with protocol name MQTX', 5, badLevel('MQTX', 5), UNSUPPORTED_VERSION);
add('[MQTT-3.1.2-1] {v} CONNECT with protocol name MQIsdp and level 4', 4, badLevel('MQIsdp', 4), UNSUPPORTED_VERSION);
add('{v} CONNECT with protocol name MQTT and level 3', 3, badLevel('MQTT', 3), UNSUPPORTED_VERSION);
add('{v} CONNECT with an empty protocol name', 4, badLevel('', 4), UNSUPPORTED_VERSION);

// UTF-8 strings.
for (const version of [3, 4, 5] as const) {
  const wellFormed = id(ID.wellFormedUtf8, version);
  const noNull = id(ID.noNullCharacter, version);
  const pl = version === 5 ? '00' : '';
  add(`${wellFormed} {v} client id with a truncated multi-byte sequence`, version, connect(version, 0x02, sHex('61 c3')), MALFORMED);
  add(`${wellFormed} {v} client id with an invalid byte`, version, connect(version, 0x02, sHex('61 ff 62')), MALFORMED);
  add(`${wellFormed} {v} client id with an encoded surrogate U+D800`, version, connect(version, 0x02, sHex('ed a0 80')), MALFORMED);
  add(`${wellFormed} {v} client id with an overlong encoding`, version, connect(version, 0x02, sHex('c1 81')), MALFORMED);
  add(`${wellFormed} {v} client id with a code point above U+10FFFF`, version, connect(version, 0x02, sHex('f4 90 80 80')), MALFORMED);
  add(`${noNull} {v} client id with U+0000`, version, connect(version, 0x02, sHex('61 00 62')), MALFORMED);
  add(`${noNull} {v} client id with U+0000 after a multi-byte character`, version, connect(version, 0x02, sHex('c3 bc 00')), MALFORMED);
  add(`${noNull} {v} U+0000 written as the overlong C0 80`, version, connect(version, 0x02, sHex('c0 80')), MALFORMED);
  add(`${wellFormed} {v} will topic with ill-formed UTF-8`, version,
    connect(version, 0x06, `${s('c')}${version === 5 ? '00' : ''}${sHex('e2 82')}${s('x')}`), MALFORMED);
  add(`${wellFormed} {v} user name with ill-formed UTF-8`, version, connect(version, 0x82, `${s('c')}${sHex('80')}`), MALFORMED);
  add(`[MQTT-3.3.2-1] ${wellFormed} {v} PUBLISH topic with ill-formed UTF-8`, version, pkt(0x30, `${sHex('61 e0 80 80')} ${pl}`), MALFORMED);
  add(`[MQTT-4.7.3-2] ${noNull} {v} PUBLISH topic with U+0000`, version,
    pkt(0x30, `${sHex('61 00')} ${pl}`), MALFORMED);
  add(`${wellFormed} {v} SUBSCRIBE filter with ill-formed UTF-8`, version, pkt(0x82, `0001 ${pl} ${sHex('ff')} 00`), MALFORMED);
  add(`${noNull} {v} UNSUBSCRIBE filter with U+0000`, version, pkt(0xa2, `0001 ${pl} ${sHex('00')}`), MALFORMED);
}
add('[MQTT-1.5.7-1] {v} user property name with ill-formed UTF-8', 5, pkt(0x30, `${s('a')} ${props(`26 ${sHex('ff')} ${s('v')}`)}`), MALFORMED);
add('[MQTT-1.5.7-1] {v} user property value with U+0000', 5, pkt(0x30, `${s('a')} ${props(`26 ${s('k')} ${sHex('00')}`)}`), MALFORMED);
add('[MQTT-3.3.2-19] {v} content type with ill-formed UTF-8', 5, pkt(0x30, `${s('a')} ${props(`03 ${sHex('c3')}`)}`), MALFORMED);
add('[MQTT-3.3.2-13] {v} response topic with ill-formed UTF-8', 5, pkt(0x30, `${s('a')} ${props(`08 ${sHex('ed bf bf')}`)}`), MALFORMED);

// SUBSCRIBE and UNSUBSCRIBE payloads.
for (const version of [3, 4, 5] as const) {
  const v5 = version === 5;
  const pl = v5 ? '00' : '';
  add(`${id(ID.subscribeNeedsFilter, version)} {v} SUBSCRIBE without any topic filter`, version, pkt(0x82, `0001 ${pl}`), PROTOCOL_ERROR);
  add('[MQTT-3.10.3-2] {v} UNSUBSCRIBE without any topic filter', version, pkt(0xa2, `0001 ${pl}`), PROTOCOL_ERROR);
  add('[MQTT-4.7.3-1] {v} SUBSCRIBE with an empty topic filter', version, pkt(0x82, `0001 ${pl} 0000 00`), MALFORMED);
  add('[MQTT-4.7.3-1] {v} UNSUBSCRIBE with an empty topic filter', version, pkt(0xa2, `0001 ${pl} 0000`), MALFORMED);
  add('{v} SUBSCRIBE with a valid filter and then an empty one', version, pkt(0x82, `0001 ${pl} ${s('a')} 00 0000 00`), MALFORMED);
}
for (const version of [3, 4] as const) {
  for (const options of [0x04, 0x08, 0x30, 0x40, 0x80, 0xfc]) {
    add(`[MQTT-3.8.3-4] {v} SUBSCRIBE requested QoS byte with reserved bits 0x${options.toString(16)}`, version, // v3.1.1
      pkt(0x82, `0001 ${s('a')} ${options.toString(16).padStart(2, '0')}`), MALFORMED);
  }
  add('[MQTT-3.8.3-4] {v} SUBSCRIBE requesting QoS 3', version, pkt(0x82, `0001 ${s('a')} 03`), MALFORMED); // v3.1.1
}
add('[MQTT-3.8.3-5] {v} SUBSCRIBE options with reserved bit 6 set', 5, pkt(0x82, `0001 00 ${s('a')} 40`), MALFORMED);
add('[MQTT-3.8.3-5] {v} SUBSCRIBE options with reserved bit 7 set', 5, pkt(0x82, `0001 00 ${s('a')} 81`), MALFORMED);
add('{v} SUBSCRIBE options with Retain Handling 3 is a protocol error', 5, pkt(0x82, `0001 00 ${s('a')} 30`), PROTOCOL_ERROR);
add('{v} SUBSCRIBE options with QoS 3 is a protocol error', 5, pkt(0x82, `0001 00 ${s('a')} 03`), PROTOCOL_ERROR);

// MQTT 5 properties.
const publishWith = (p: string): Buffer => pkt(0x30, `${s('a')} ${props(p)}`);
add('{v} unknown property identifier 0x04', 5, publishWith('04 00'), MALFORMED);
add('{v} unknown property identifier 0x00', 5, publishWith('00'), MALFORMED);
add('{v} unknown property identifier 0x7f', 5, publishWith('7f 00'), MALFORMED);
add('{v} Session Expiry Interval is not allowed in PUBLISH', 5, publishWith('11 0000000a'), MALFORMED);
add('{v} Topic Alias is not allowed in PUBACK', 5, raw(`40 07 0001 00 ${props('23 0001')}`), MALFORMED);
add('{v} Will Delay Interval is not allowed in CONNECT properties', 5,
  pkt(0x10, `${s('MQTT')} 05 02 003c ${props('18 00000001')} ${s('c')}`), MALFORMED);
add('{v} Topic Alias is not allowed in will properties', 5,
  pkt(0x10, `${s('MQTT')} 05 06 003c 00 ${s('c')} ${props('23 0001')} ${s('w')} ${s('x')}`), MALFORMED);
add('{v} Reason String is not allowed in SUBSCRIBE', 5, pkt(0x82, `0001 ${props(`1f ${s('r')}`)} ${s('a')} 00`), MALFORMED);
add('{v} Subscription Identifier is not allowed in CONNACK', 5, raw(`20 05 00 00 ${props('0b 01')}`), MALFORMED);
add('{v} Payload Format Indicator twice is a protocol error', 5, publishWith('01 00 01 01'), PROTOCOL_ERROR);
add('{v} Topic Alias twice is a protocol error', 5, publishWith('23 0001 23 0002'), PROTOCOL_ERROR);
add('{v} Content Type twice is a protocol error', 5, publishWith(`03 ${s('a')} 03 ${s('b')}`), PROTOCOL_ERROR);
add('{v} Subscription Identifier twice in SUBSCRIBE is a protocol error', 5,
  pkt(0x82, `0001 ${props('0b 01 0b 02')} ${s('a')} 00`), PROTOCOL_ERROR);
add('{v} Session Expiry Interval twice in CONNECT is a protocol error', 5,
  pkt(0x10, `${s('MQTT')} 05 02 003c ${props('11 00000001 11 00000002')} ${s('c')}`), PROTOCOL_ERROR);
add('{v} Authentication Method twice in AUTH is a protocol error', 5,
  pkt(0xf0, `18 ${props(`15 ${s('a')} 15 ${s('b')}`)}`), PROTOCOL_ERROR);
add('{v} Payload Format Indicator 2 is a protocol error', 5, publishWith('01 02'), PROTOCOL_ERROR);
add('{v} Subscription Identifier 0 in PUBLISH is a protocol error', 5, publishWith('0b 00'), PROTOCOL_ERROR);
add('{v} Subscription Identifier 0 in SUBSCRIBE is a protocol error', 5, pkt(0x82, `0001 ${props('0b 00')} ${s('a')} 00`), PROTOCOL_ERROR);
const connectWith = (p: string): Buffer => pkt(0x10, `${s('MQTT')} 05 02 003c ${props(p)} ${s('c')}`);
add('{v} Receive Maximum 0 is a protocol error', 5, connectWith('21 0000'), PROTOCOL_ERROR);
add('{v} Maximum Packet Size 0 is a protocol error', 5, connectWith('27 00000000'), PROTOCOL_ERROR);
add('{v} Request Problem Information 2 is a protocol error', 5, connectWith('17 02'), PROTOCOL_ERROR);
add('{v} Request Response Information 2 is a protocol error', 5, connectWith('19 02'), PROTOCOL_ERROR);
const connackWith = (p: string): Buffer => pkt(0x20, `00 00 ${props(p)}`);
add('{v} Maximum QoS 2 is a protocol error', 5, connackWith('24 02'), PROTOCOL_ERROR);
add('{v} Retain Available 2 is a protocol error', 5, connackWith('25 02'), PROTOCOL_ERROR);
add('{v} Wildcard Subscription Available 2 is a protocol error', 5, connackWith('28 02'), PROTOCOL_ERROR);
add('{v} Subscription Identifier Available 2 is a protocol error', 5, connackWith('29 02'), PROTOCOL_ERROR);
add('{v} Shared Subscription Available 255 is a protocol error', 5, connackWith('2a ff'), PROTOCOL_ERROR);
add('{v} Receive Maximum 0 in CONNACK is a protocol error', 5, connackWith('21 0000'), PROTOCOL_ERROR);
add('{v} Property Length running past the packet', 5, pkt(0x30, `${s('a')} 09 01`), MALFORMED);
add('{v} a property value running past the Property Length', 5, pkt(0x30, `${s('a')} 02 02 0000 0000`), MALFORMED);
add('{v} a string property running past the Property Length', 5, pkt(0x30, `${s('a')} 04 03 0005 6162 63646566`), MALFORMED);
add('{v} Subscription Identifier longer than four bytes', 5, publishWith('0b ff ff ff ff 01'), MALFORMED);
add('{v} Subscription Identifier not in its shortest form', 5, publishWith('0b 81 00'), MALFORMED);
add('{v} a property cut short by the end of the packet', 5, raw('30 05 0001 61 02 13'), MALFORMED);

// MQTT 5 reason codes.
add('[MQTT-3.2.2-8] {v} CONNACK with the undefined reason code 0x01', 5, raw('20 03 00 01 00'), PROTOCOL_ERROR);
add('{v} CONNACK with the undefined return code 6', 4, raw('20 02 00 06'), PROTOCOL_ERROR);
add('[MQTT-3.4.2-1] {v} PUBACK with the undefined reason code 0x05', 5, raw('40 03 0001 05'), PROTOCOL_ERROR);
add('[MQTT-3.5.2-1] {v} PUBREC with the PUBREL-only reason code 0x92', 5, raw('50 03 0001 92'), PROTOCOL_ERROR);
add('[MQTT-3.6.2-1] {v} PUBREL with the PUBACK-only reason code 0x10', 5, raw('62 03 0001 10'), PROTOCOL_ERROR);
add('[MQTT-3.7.2-1] {v} PUBCOMP with the undefined reason code 0x80', 5, raw('70 04 0001 80 00'), PROTOCOL_ERROR);
add('{v} SUBACK with the undefined reason code 0x03', 5, raw('90 04 0001 00 03'), PROTOCOL_ERROR);
add('[MQTT-3.9.3-2] {v} SUBACK with the undefined return code 0x03', 4, raw('90 03 0001 03'), PROTOCOL_ERROR); // v3.1.1
add('{v} SUBACK without any return code', 4, raw('90 02 0001'), PROTOCOL_ERROR);
add('{v} UNSUBACK with the undefined reason code 0x01', 5, raw('b0 04 0001 00 01'), PROTOCOL_ERROR);
add('{v} UNSUBACK without any reason code', 5, raw('b0 03 0001 00'), PROTOCOL_ERROR);
add('[MQTT-3.14.2-1] {v} DISCONNECT with the undefined reason code 0x05', 5, raw('e0 01 05'), PROTOCOL_ERROR);
add('[MQTT-3.15.2-1] {v} AUTH with the undefined reason code 0x01', 5, raw('f0 02 01 00'), PROTOCOL_ERROR);

export const MALFORMED_CORPUS: readonly MalformedCase[] = cases;
