// Random and mutated input: the decoder returns packets or throws MqttProtocolError, never
// anything else, whatever the bytes and however they are cut into chunks. Whatever it does
// accept, the encoder writes back to a packet that decodes the same.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  MqttProtocolError, PacketDecoder, encodePacket, type Packet, type ProtocolVersion,
} from '../../src/protocol/index.js';
import { packet, versionedPacket } from './helpers/arbitraries.js';
import { decodeOne } from './helpers/decode.js';

const version = fc.constantFrom<ProtocolVersion | undefined>(undefined, 3, 4, 5);

/** Decodes `chunks`; returns the packets, or the MqttProtocolError. Anything else fails. */
function decodeSafely(chunks: Buffer[], v: ProtocolVersion | undefined): { packets: Packet[]; decoder: PacketDecoder } {
  const decoder = new PacketDecoder({ protocolVersion: v });
  const packets: Packet[] = [];
  try {
    for (const chunk of chunks) decoder.decode(chunk, (p) => void packets.push(p));
  } catch (err) {
    assert.ok(err instanceof MqttProtocolError, `threw ${String(err)}`);
    assert.equal(typeof err.reasonCode, 'number');
    assert.ok(err.reasonCode >= 0x80, `reason code ${err.reasonCode}`);
  }
  return { packets, decoder };
}

/** Cuts `bytes` at the given fractions of its length. */
const cut = (bytes: Buffer, fractions: number[]): Buffer[] => {
  const offsets = fractions.map((f) => Math.floor(f * bytes.length)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const o of offsets) {
    chunks.push(bytes.subarray(start, o));
    start = o;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
};

/** Whatever was accepted re-encodes (or is refused by the encoder) and decodes the same. */
function checkReencode(packets: Packet[], v: ProtocolVersion): void {
  for (const p of packets) {
    let bytes: Buffer;
    try {
      bytes = encodePacket(p, v);
    } catch (err) {
      assert.ok(err instanceof MqttProtocolError, `encoder threw ${String(err)}`);
      continue;
    }
    assert.deepEqual(decodeOne(bytes, v), p);
  }
}

test('random bytes only ever give packets or MqttProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), version, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
      (data, v, fractions) => {
        const { packets, decoder } = decodeSafely(cut(Buffer.from(data), fractions), v);
        checkReencode(packets, decoder.protocolVersion ?? v ?? 4);
      }),
    { numRuns: 2000 },
  );
});

test('random bytes after a valid fixed header only ever give packets or MqttProtocolError', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 60 }), version, (byte0, body, v) => {
      const bytes = Buffer.concat([Buffer.from([byte0, body.length]), body]);
      const { packets, decoder } = decodeSafely([bytes], v);
      checkReencode(packets, decoder.protocolVersion ?? v ?? 4);
    }),
    { numRuns: 3000 },
  );
});

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Buffer, mutations: Mutation[]): Buffer {
  const out = [...bytes];
  for (const m of mutations) {
    const at = Math.min(out.length - 1, Math.floor(m.at * out.length));
    if (at < 0) break;
    if (m.kind === 'set') out[at] = m.value;
    else if (m.kind === 'flip') out[at] ^= 1 << m.bit;
    else if (m.kind === 'insert') out.splice(at, 0, m.value);
    else out.splice(at, 1);
  }
  return Buffer.from(out);
}

test('mutated valid packets only ever give packets or MqttProtocolError', () => {
  fc.assert(
    fc.property(versionedPacket, fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 2 }), ({ version: v, packet: p }, mutations, fractions) => {
        const bytes = mutate(encodePacket(p, v), mutations);
        const { packets, decoder } = decodeSafely(cut(bytes, fractions), v);
        checkReencode(packets, decoder.protocolVersion ?? v);
      }),
    { numRuns: 3000 },
  );
});

test('random valid packets of every version round trip, in one chunk or split', () => {
  fc.assert(
    fc.property(versionedPacket, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }), ({ version: v, packet: p }, fractions) => {
      const bytes = encodePacket(p, v);
      const { packets } = decodeSafely(cut(bytes, fractions), v);
      assert.deepEqual(packets, [p]);
    }),
    { numRuns: 1000 },
  );
});

test('(v5) streams of random packets decode in order', () => {
  fc.assert(
    fc.property(fc.array(packet(5), { minLength: 1, maxLength: 20 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
      (list, fractions) => {
        const stream = Buffer.concat(list.map((p) => encodePacket(p, 5)));
        // A CONNECT resets the version to its own, which is 5 here too.
        assert.deepEqual(decodeSafely(cut(stream, fractions), 5).packets, list);
      }),
    { numRuns: 200 },
  );
});
