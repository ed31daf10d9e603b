// Every packet of the shared corpus, in every protocol level, survives encode then decode
// unchanged; MQTT 5 packets carry every property they allow.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodePacket, encodedLength, PROPERTY_DEFINITIONS, WILL_PROPERTIES } from '../../src/protocol/index.js';
import { ALL_FIXTURES, allProperties, fixturesFor } from './fixtures.js';
import { decodeOne } from './helpers/decode.js';

describe('round trip of the packet corpus', () => {
  for (const { name, version, packet } of ALL_FIXTURES) {
    test(name, () => {
      const bytes = encodePacket(packet, version);
      assert.equal(encodedLength(packet, version), bytes.length);
      assert.deepEqual(decodeOne(bytes, version), packet);
    });
  }
});

test('the corpus has every packet type in every version (15 in 5.0, 14 before)', () => {
  for (const version of [3, 4, 5] as const) {
    const types = new Set(fixturesFor(version).map((f) => f.packet.type));
    assert.equal(types.size, version === 5 ? 15 : 14);
  }
});

test('(v5) every property appears in the corpus in every packet that allows it', () => {
  const v5 = fixturesFor(5);
  for (const def of PROPERTY_DEFINITIONS) {
    for (let context = 0; context < 16; context++) {
      if ((def.allowedIn & (1 << context)) === 0) continue;
      const found = v5.some(({ packet }) => {
        const props = context === WILL_PROPERTIES
          ? (packet.type === 1 ? packet.will?.properties : undefined)
          : packet.type === context && 'properties' in packet ? packet.properties : undefined;
        return props !== undefined && props[def.name] !== undefined;
      });
      assert.ok(found, `${def.label} in context ${context}`);
    }
  }
});

test('(v5) allProperties gives a repeatable property more than once only where it may repeat', () => {
  assert.equal(allProperties(3).subscriptionIdentifiers?.length, 2);
  assert.equal(allProperties(8).subscriptionIdentifiers?.length, 1);
});
