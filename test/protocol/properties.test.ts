// MQTT 5 properties (section 2.2.2.2), for every property in every packet: accepted where the
// spec allows it, a Malformed Packet elsewhere; repeated, accepted only where it may repeat and
// a Protocol Error otherwise. The encoder refuses what the decoder refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MqttProtocolError, PROPERTY_BY_ID, PROPERTY_DEFINITIONS, PropertyType, ReasonCode, WILL_PROPERTIES, encodePacket,
  type Packet, type Properties, type PropertyDefinition,
} from '../../src/protocol/index.js';
import { decodeError, decodeOne } from './helpers/decode.js';

const CONTEXTS = ['Will', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE',
  'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'];
/** Every context that has a property block (PINGREQ and PINGRESP have none). */
const WITH_PROPERTIES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15];

const vbi = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};
const str = (s: string): number[] => [0, s.length, ...Buffer.from(s)];

/** One valid occurrence of the property on the wire, and its decoded value. */
function sample(def: PropertyDefinition): { wire: number[]; value: unknown } {
  switch (def.type) {
    case PropertyType.Byte: return { wire: [def.id, 1], value: 1 };
    case PropertyType.TwoByteInteger: return { wire: [def.id, 0x01, 0x02], value: 0x0102 };
    case PropertyType.FourByteInteger: return { wire: [def.id, 0x80, 0, 0, 1], value: 0x80000001 };
    case PropertyType.VariableByteInteger: return { wire: [def.id, 0x80, 0x01], value: [128] };
    case PropertyType.Utf8String: return { wire: [def.id, ...str('ab')], value: 'ab' };
    case PropertyType.BinaryData: return { wire: [def.id, 0, 2, 0, 0xff], value: Buffer.from([0, 0xff]) };
    case PropertyType.Utf8StringPair: return { wire: [def.id, ...str('k'), ...str('v')], value: [['k', 'v']] };
  }
}

/** A 5.0 packet of the context's type whose only property block is `block`. */
function packetWith(context: number, block: number[]): Buffer {
  const props = [...vbi(block.length), ...block];
  let byte0 = context << 4;
  let body: number[];
  switch (context) {
    case WILL_PROPERTIES:
      byte0 = 0x10;
      body = [...str('MQTT'), 5, 0x06, 0, 60, 0, ...str('c'), ...props, ...str('w'), 0, 0];
      break;
    case 1: body = [...str('MQTT'), 5, 0x02, 0, 60, ...props, ...str('c')]; break;
    case 2: body = [0, 0, ...props]; break;
    case 3: body = [...str('t'), ...props, 0x70]; break;
    case 4: case 5: case 7: body = [0, 1, 0, ...props]; break;
    case 6: byte0 |= 2; body = [0, 1, 0, ...props]; break;
    case 8: byte0 |= 2; body = [0, 1, ...props, ...str('f'), 1]; break;
    case 9: body = [0, 1, ...props, 0]; break;
    case 10: byte0 |= 2; body = [0, 1, ...props, ...str('f')]; break;
    case 11: body = [0, 1, ...props, 0]; break;
    case 14: case 15: body = [0, ...props]; break;
    default: throw new Error(`no properties in context ${context}`);
  }
  return Buffer.from([byte0, ...vbi(body.length), ...body]);
}

function propertiesOf(packet: Packet, context: number): Properties | undefined {
  if (context === WILL_PROPERTIES) return packet.type === 1 ? packet.will?.properties : undefined;
  return 'properties' in packet ? packet.properties : undefined;
}

const allowed = (def: PropertyDefinition, context: number): boolean => (def.allowedIn & (1 << context)) !== 0;
const repeatable = (def: PropertyDefinition, context: number): boolean => (def.repeatableIn & (1 << context)) !== 0;

describe('(v5) every property in every packet', () => {
  for (const def of PROPERTY_DEFINITIONS) {
    test(`${def.label} (0x${def.id.toString(16)})`, () => {
      const { wire, value } = sample(def);
      for (const context of WITH_PROPERTIES) {
        const where = `${def.label} in ${CONTEXTS[context]}`;
        const once = packetWith(context, wire);
        const twice = packetWith(context, [...wire, ...wire]);
        if (!allowed(def, context)) {
          assert.equal(decodeError(once, 5).reasonCode, ReasonCode.MalformedPacket, where);
          continue;
        }
        assert.deepEqual(propertiesOf(decodeOne(once, 5), context), { [def.name]: value }, where);
        if (repeatable(def, context)) {
          const both = Array.isArray(value) ? [...value, ...value] : value;
          assert.deepEqual(propertiesOf(decodeOne(twice, 5), context), { [def.name]: both }, `${where}, twice`);
        } else {
          assert.equal(decodeError(twice, 5).reasonCode, ReasonCode.ProtocolError, `${where}, twice`);
        }
      }
    });
  }
});

test('(v5) the table has the 27 properties of the spec, with their identifiers', () => {
  assert.equal(PROPERTY_DEFINITIONS.length, 27);
  const ids = PROPERTY_DEFINITIONS.map((d) => d.id);
  assert.deepEqual(ids, [0x01, 0x02, 0x03, 0x08, 0x09, 0x0b, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x1c, 0x1f, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a]);
  for (const d of PROPERTY_DEFINITIONS) assert.equal(PROPERTY_BY_ID[d.id], d);
  // Only User Property repeats everywhere; Subscription Identifier only in PUBLISH.
  const repeats = PROPERTY_DEFINITIONS.filter((d) => d.repeatableIn !== 0).map((d) => d.name);
  assert.deepEqual(repeats, ['subscriptionIdentifiers', 'userProperties']);
  assert.equal(PROPERTY_BY_ID[0x0b]!.repeatableIn, 1 << 3);
});

test('(v5) the encoder accepts a property exactly where the decoder does', () => {
  for (const def of PROPERTY_DEFINITIONS) {
    const value = sample(def).value;
    for (const context of WITH_PROPERTIES) {
      const props = { [def.name]: value } as Properties;
      const packet = packetFor(context, props);
      if (allowed(def, context)) {
        assert.deepEqual(propertiesOf(decodeOne(encodePacket(packet, 5), 5), context), props);
      } else {
        assert.throws(() => encodePacket(packet, 5), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x81,
          `${def.label} in ${CONTEXTS[context]}`);
      }
    }
  }
});

test('(v5) properties are kept in wire order, user properties with repeated names included', () => {
  const bytes = packetWith(3, [0x26, ...str('b'), ...str('1'), 0x23, 0, 5, 0x26, ...str('a'), ...str('2'), 0x26, ...str('b'), ...str('3')]);
  const p = decodeOne(bytes, 5);
  assert.ok(p.type === 3);
  assert.deepEqual(p.properties?.userProperties, [['b', '1'], ['a', '2'], ['b', '3']]);
  assert.deepEqual(Object.keys(p.properties!), ['userProperties', 'topicAlias']);
  // Re-encoded, user properties are written together (the order between different
  // identifiers carries no meaning), still in their own order.
  assert.deepEqual(decodeOne(encodePacket(p, 5), 5), p);
});

test('(v5) Topic Alias 0 is decoded for the broker to judge', () => {
  const p = decodeOne(packetWith(3, [0x23, 0, 0]), 5);
  assert.ok(p.type === 3 && p.properties?.topicAlias === 0);
});

function packetFor(context: number, properties: Properties): Packet {
  switch (context) {
    case WILL_PROPERTIES:
      return { type: 1, protocolName: 'MQTT', protocolVersion: 5, cleanStart: true, keepAlive: 0, clientId: 'c',
        will: { topic: 'w', payload: Buffer.alloc(0), qos: 0, retain: false, properties } };
    case 1: return { type: 1, protocolName: 'MQTT', protocolVersion: 5, cleanStart: true, keepAlive: 0, clientId: 'c', properties };
    case 2: return { type: 2, sessionPresent: false, reasonCode: 0, properties };
    case 3: return { type: 3, topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false, properties };
    case 4: case 5: case 6: case 7: return { type: context, packetId: 1, reasonCode: 0, properties };
    case 8: return { type: 8, packetId: 1, properties, subscriptions: [
      { topicFilter: 'f', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] };
    case 9: return { type: 9, packetId: 1, reasonCodes: [0], properties };
    case 10: return { type: 10, packetId: 1, topicFilters: ['f'], properties };
    case 11: return { type: 11, packetId: 1, reasonCodes: [0], properties };
    case 14: return { type: 14, reasonCode: 0, properties };
    case 15: return { type: 15, reasonCode: 0, properties };
    default: throw new Error(`no properties in context ${context}`);
  }
}
