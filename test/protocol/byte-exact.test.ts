// Hand-derived wire forms, checked both ways: the encoder writes exactly these bytes and the
// decoder reads exactly this packet from them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodePacket, encodePublish } from '../../src/protocol/index.js';
import { BYTE_FIXTURES, fromHex } from './fixtures.js';
import { decodeOne, hex } from './helpers/decode.js';

describe('byte-exact fixtures', () => {
  for (const { name, version, packet, hex: expected } of BYTE_FIXTURES) {
    test(`encode ${name}`, () => {
      assert.equal(hex(encodePacket(packet, version)), hex(fromHex(expected)));
      if (packet.type === 3) assert.equal(hex(encodePublish(packet, version)), hex(fromHex(expected)));
    });
    test(`decode ${name}`, () => {
      assert.deepEqual(decodeOne(fromHex(expected), version), packet);
    });
  }
});
