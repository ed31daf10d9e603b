// The decoder is incremental: a packet may arrive split at any byte, and one chunk may hold
// many packets ([MQTT-6.0.0-2] asks this of WebSocket frames; TCP reads behave the same way).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketDecoder, encodePacket, type Packet } from '../../src/protocol/index.js';
import { ALL_FIXTURES, VERSIONS, fixturesFor } from './fixtures.js';
import { decodeAll, decodeChunks, decodeLentChunks, splitAt } from './helpers/decode.js';

describe('[MQTT-6.0.0-2] packets split across chunks', () => {
  for (const { name, version, packet } of ALL_FIXTURES) {
    test(`${name} split at every byte boundary decodes the same`, () => {
      const bytes = encodePacket(packet, version);
      for (let cut = 0; cut <= bytes.length; cut++) {
        assert.deepEqual(decodeChunks(splitAt(bytes, cut), version), [packet], `cut at ${cut}`);
      }
      // Two cuts: catches a header split in two places and a body split after a split header.
      for (let a = 1; a < Math.min(bytes.length, 6); a++) {
        for (let b = a; b <= bytes.length; b += Math.max(1, Math.floor(bytes.length / 17))) {
          assert.deepEqual(decodeChunks(splitAt(bytes, a, b), version), [packet], `cuts at ${a}, ${b}`);
        }
      }
    });
  }
});

for (const version of VERSIONS) {
  const packets = fixturesFor(version).map((f) => f.packet);
  const stream = Buffer.concat(packets.map((p) => encodePacket(p, version)));

  test(`[MQTT-6.0.0-2] (v${version}) the whole corpus in one-byte chunks decodes in order`, () => {
    const chunks = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    assert.deepEqual(decodeChunks(chunks, version), packets);
  });

  test(`[MQTT-6.0.0-2] (v${version}) the corpus in chunks of every size from 2 to 64 decodes in order`, () => {
    for (let size = 2; size <= 64; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      assert.deepEqual(decodeChunks(chunks, version), packets, `chunk size ${size}`);
    }
  });
}

test('[MQTT-6.0.0-2] a chunk holding 1,000 packets decodes them all, in order', () => {
  const packets: Packet[] = [];
  for (let i = 0; i < 1000; i++) {
    packets.push(i % 3 === 0
      ? { type: 3, topic: `t/${i}`, payload: Buffer.from(String(i)), qos: 1, retain: false, dup: false, packetId: i + 1 }
      : i % 3 === 1 ? { type: 4, packetId: i + 1 } : { type: 12 });
  }
  const stream = Buffer.concat(packets.map((p) => encodePacket(p, 4)));
  assert.deepEqual(decodeAll(stream, 4), packets);
});

test('a large packet split into many chunks is gathered whole', () => {
  const packet: Packet = { type: 3, topic: 'big', payload: Buffer.alloc(300_000, 0x5a), qos: 0, retain: false, dup: false };
  const bytes = encodePacket(packet, 4);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 1000) chunks.push(bytes.subarray(i, i + 1000));
  assert.deepEqual(decodeChunks(chunks, 4), [packet]);
});

test('decoded payloads are views of the input chunk, not copies', () => {
  const bytes = encodePacket({ type: 3, topic: 'a', payload: Buffer.from('abc'), qos: 0, retain: false, dup: false }, 4);
  const [packet] = decodeAll(bytes, 4);
  assert.equal(packet.type, 3);
  if (packet.type !== 3) return;
  assert.equal(packet.payload.buffer, bytes.buffer);
  bytes[bytes.length - 1] = 0x7a;
  assert.equal(packet.payload.toString(), 'abz');
});

test('a split packet is held in a copy: the caller may reuse its chunk buffer', () => {
  const bytes = encodePacket({ type: 3, topic: 'a', payload: Buffer.from('abcdef'), qos: 0, retain: false, dup: false }, 4);
  const first = Buffer.from(bytes.subarray(0, 6));
  const packets: Packet[] = [];
  const decoder = new PacketDecoder({ protocolVersion: 4 });
  decoder.decode(first, (p) => void packets.push(p));
  first.fill(0);
  decoder.decode(bytes.subarray(6), (p) => void packets.push(p));
  assert.equal(packets.length, 1);
  const p = packets[0];
  assert.ok(p.type === 3 && p.payload.toString() === 'abcdef');
});

describe('lent input: a transport\'s shared read buffer, overwritten after each decode', () => {
  for (const { name, version, packet } of ALL_FIXTURES) {
    test(`${name}, whole and split at every byte boundary, keeps nothing of the lent buffer`, () => {
      const bytes = encodePacket(packet, version);
      for (let cut = 0; cut <= bytes.length; cut++) {
        assert.deepEqual(decodeLentChunks(splitAt(bytes, cut), version), [packet], `cut at ${cut}`);
      }
    });
  }

  for (const version of VERSIONS) {
    test(`(v${version}) the corpus in lent chunks of every size from 1 to 64 decodes in order`, () => {
      const packets = fixturesFor(version).map((f) => f.packet);
      const stream = Buffer.concat(packets.map((p) => encodePacket(p, version)));
      for (let size = 1; size <= 64; size++) {
        const chunks: Buffer[] = [];
        for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
        assert.deepEqual(decodeLentChunks(chunks, version), packets, `chunk size ${size}`);
      }
    });
  }

  test('PUBLISH after PUBLISH in lent input: the rest of the chunk is copied once, and payloads are views of that copy', () => {
    const texts = ['one', 'two', 'three'];
    const stream = Buffer.concat([
      encodePacket({ type: 4, packetId: 9 }, 4),
      ...texts.map((t) => encodePacket({ type: 3, topic: 'p', payload: Buffer.from(t), qos: 0, retain: false, dup: false }, 4)),
    ]);
    const shared = Buffer.alloc(stream.length + 10, 0xee);
    stream.copy(shared);
    const packets: Packet[] = [];
    new PacketDecoder({ protocolVersion: 4 }).decode(shared, (p) => void packets.push(p), undefined, stream.length);
    shared.fill(0x5c);
    const publishes = packets.filter((p) => p.type === 3);
    assert.deepEqual(publishes.map((p) => p.payload.toString()), texts);
    assert.equal(packets[0].type, 4);
    // The first PUBLISH, followed by another, starts the copy: all three share it.
    assert.ok(publishes.every((p) => p.payload.buffer === publishes[0].payload.buffer && p.payload.buffer !== shared.buffer));
  });

  test('lendPayloads: a lone QoS 0 PUBLISH without RETAIN keeps a view of the lent chunk; everything else is copied', () => {
    const decodeOne = (packet: Packet, version: 4 | 5, lendPayloads: boolean) => {
      const bytes = encodePacket(packet, version);
      const shared = Buffer.alloc(bytes.length + 10, 0xee);
      bytes.copy(shared);
      const out: Packet[] = [];
      new PacketDecoder({ protocolVersion: version, lendPayloads }).decode(shared, (p) => void out.push(p), undefined, bytes.length);
      assert.equal(out.length, 1);
      const payload = (out[0] as { payload: Buffer }).payload;
      assert.equal(payload.toString(), 'body');
      return payload.buffer === shared.buffer;
    };
    const zero = { type: 3, topic: 't', payload: Buffer.from('body'), qos: 0, retain: false, dup: false } as const;
    for (const version of [4, 5] as const) {
      assert.equal(decodeOne(zero, version, true), true, `v${version} QoS 0: a view`);
      assert.equal(decodeOne(zero, version, false), false, `v${version} without the option: a copy`);
      assert.equal(decodeOne({ ...zero, retain: true }, version, true), false, `v${version} retained: a copy`);
      assert.equal(decodeOne({ ...zero, qos: 1, packetId: 3 }, version, true), false, `v${version} QoS 1: a copy`);
      assert.equal(decodeOne({ ...zero, qos: 2, packetId: 3 }, version, true), false, `v${version} QoS 2: a copy`);
    }
    // Binary fields other than the payload are still copied.
    const correlation = encodePacket({ ...zero, properties: { correlationData: Buffer.from('cd') } }, 5);
    const shared = Buffer.alloc(correlation.length); // not from the pool copies are cut from
    correlation.copy(shared);
    const out: Packet[] = [];
    new PacketDecoder({ protocolVersion: 5, lendPayloads: true }).decode(shared, (p) => void out.push(p), undefined, correlation.length);
    const data = (out[0] as { properties: { correlationData: Buffer } }).properties.correlationData;
    assert.equal(data.toString(), 'cd');
    assert.notEqual(data.buffer, shared.buffer);
  });

  test('only the lent length is input: bytes after it are not decoded', () => {
    const bytes = encodePacket({ type: 4, packetId: 7 }, 4);
    const shared = Buffer.concat([bytes, encodePacket({ type: 12 }, 4)]);
    const packets: Packet[] = [];
    new PacketDecoder({ protocolVersion: 4 }).decode(shared, (p) => void packets.push(p), undefined, bytes.length);
    assert.deepEqual(packets, [{ type: 4, packetId: 7 }]);
  });

  test('the bytes returned when the sink stops are a copy, not a view of the lent buffer', () => {
    const first = encodePacket({ type: 3, topic: 'a', payload: Buffer.from('one'), qos: 0, retain: false, dup: false }, 4);
    const second = encodePacket({ type: 3, topic: 'b', payload: Buffer.from('two'), qos: 0, retain: false, dup: false }, 4);
    const shared = Buffer.concat([first, second, Buffer.alloc(8)]);
    const decoder = new PacketDecoder({ protocolVersion: 4 });
    const rest = decoder.decode(shared, () => false, undefined, first.length + second.length);
    assert.ok(rest !== undefined);
    shared.fill(0);
    assert.deepEqual(decodeAll(rest, 4), [{ type: 3, topic: 'b', payload: Buffer.from('two'), qos: 0, retain: false, dup: false }]);
  });
});
