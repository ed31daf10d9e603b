// decodeUtf8: short ASCII strings come from a table of the strings decoded lately (one per slot,
// by a hash of the bytes); the table must never hand back a string other than the bytes spell.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUtf8 } from '../../src/protocol/utf8.js';
import { MqttProtocolError } from '../../src/protocol/errors.js';

const decode = (s: string | Buffer): string => {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  // Decoded from the middle of a larger buffer, as from a packet.
  const buf = Buffer.concat([Buffer.from([1, 2, 3]), bytes, Buffer.from([4])]);
  return decodeUtf8(buf, 3, 3 + bytes.length);
};

describe('decodeUtf8', () => {
  test('strings whose bytes hash to the same slot are told apart ("Aa" and "BB")', () => {
    for (let round = 0; round < 3; round++) {
      assert.equal(decode('Aa'), 'Aa');
      assert.equal(decode('BB'), 'BB');
    }
    // Same length, same bytes but one: never the string decoded before.
    assert.equal(decode('topic/1'), 'topic/1');
    assert.equal(decode('topic/2'), 'topic/2');
    assert.equal(decode('topic/1'), 'topic/1');
  });

  test('the same bytes decode to the same string, also after the buffer they came from changed', () => {
    const buf = Buffer.from('xx/sensors/42');
    const first = decodeUtf8(buf, 3, buf.length);
    buf.write('99', 11);
    assert.equal(first, 'sensors/42');
    assert.equal(decodeUtf8(buf, 3, buf.length), 'sensors/99');
    buf.write('42', 11);
    assert.equal(decodeUtf8(buf, 3, buf.length), 'sensors/42');
  });

  test('[MQTT-1.5.4-2] (v5) [MQTT-1.5.3-2] (v3.1.1) U+0000 is refused in short and long strings, whatever was decoded before', () => {
    for (const n of [0, 1, 31, 32, 40]) {
      const ascii = 'a'.repeat(n);
      assert.equal(decode(`${ascii}b`), `${ascii}b`);
      assert.throws(() => decode(`${ascii}\u0000`), MqttProtocolError);
      assert.throws(() => decode(`\u0000${ascii}`), MqttProtocolError);
    }
  });

  test('empty, non-ASCII and long strings decode as UTF-8', () => {
    assert.equal(decode(''), '');
    for (const n of [1, 30, 31, 32, 33, 100]) {
      const ascii = 'c'.repeat(n);
      assert.equal(decode(ascii), ascii);
      assert.equal(decode(`${ascii}ü`), `${ascii}ü`);
      assert.equal(decode(`€${ascii}`), `€${ascii}`);
    }
    assert.throws(() => decode(Buffer.from([0x61, 0xc3])), MqttProtocolError, 'a cut sequence is not UTF-8');
  });
});
