// PacketDecoder behaviour beyond single packets: the protocol version it learns from CONNECT,
// the maximum packet size, stopping on request, and what it throws.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MqttProtocolError, PacketDecoder, ReasonCode, encodePacket, type ConnectPacket, type Packet, type ProtocolVersion,
} from '../../src/protocol/index.js';
import { fromHex } from './fixtures.js';
import { decodeAll, decodeError, decodeOne } from './helpers/decode.js';

const connect = (version: ProtocolVersion): ConnectPacket => ({
  type: 1, protocolName: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, cleanStart: true, keepAlive: 10, clientId: 'c',
});

function collect(decoder: PacketDecoder, ...chunks: Buffer[]): Packet[] {
  const packets: Packet[] = [];
  for (const chunk of chunks) decoder.decode(chunk, (p) => void packets.push(p));
  return packets;
}

describe('protocol version', () => {
  test('is undefined until a CONNECT, then the CONNECT\'s level', () => {
    for (const version of [3, 4, 5] as const) {
      const decoder = new PacketDecoder();
      assert.equal(decoder.protocolVersion, undefined);
      collect(decoder, encodePacket(connect(version), version));
      assert.equal(decoder.protocolVersion, version);
    }
  });

  test('packets after a 5.0 CONNECT in the same chunk are decoded as 5.0', () => {
    const decoder = new PacketDecoder();
    const stream = Buffer.concat([
      encodePacket(connect(5), 5),
      fromHex('40 03 0001 10'), // PUBACK with a reason code: malformed in 3.1.1
      fromHex('e0 01 04'),
    ]);
    assert.deepEqual(collect(decoder, stream).slice(1), [{ type: 4, packetId: 1, reasonCode: 0x10 }, { type: 14, reasonCode: 4 }]);
  });

  test('before any CONNECT, other packets are decoded as 3.1.1', () => {
    assert.deepEqual(decodeAll(fromHex('40 02 0001 e0 00')), [{ type: 4, packetId: 1 }, { type: 14 }]);
    assert.equal(decodeError(fromHex('40 03 0001 10')).reasonCode, ReasonCode.MalformedPacket);
    assert.equal(decodeError(fromHex('f0 00')).reasonCode, ReasonCode.MalformedPacket);
  });

  test('[MQTT-3.1.4-1] (v5) is known when the rest of the CONNECT is malformed, so the CONNACK can be 5.0', () => {
    const decoder = new PacketDecoder();
    // Level 5, then the reserved connect flag set.
    const bytes = fromHex('10 0e 0004 4d515454 05 03 003c 00 0001 63');
    assert.throws(() => collect(decoder, bytes), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x81);
    assert.equal(decoder.protocolVersion, 5);
  });

  test('[MQTT-3.1.2-2] (v3.1.1) an unsupported level throws 0x84 and leaves the version unknown', () => {
    const decoder = new PacketDecoder();
    const bytes = fromHex('10 0d 0004 4d515454 06 02 003c 0001 63');
    assert.throws(() => collect(decoder, bytes), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x84);
    assert.equal(decoder.protocolVersion, undefined);
  });

  test('[MQTT-3.1.2-2] (v5) an unsupported level throws 0x84 and leaves the version unknown', () => {
    const decoder = new PacketDecoder();
    const bytes = fromHex('10 0e 0004 4d515454 07 02 003c 00 0001 63');
    assert.throws(() => collect(decoder, bytes), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x84);
    assert.equal(decoder.protocolVersion, undefined);
  });

  test('a CONNECT split inside its protocol name still sets the version once complete', () => {
    const decoder = new PacketDecoder();
    const bytes = encodePacket(connect(5), 5);
    collect(decoder, bytes.subarray(0, 5));
    assert.equal(decoder.protocolVersion, undefined);
    collect(decoder, bytes.subarray(5));
    assert.equal(decoder.protocolVersion, 5);
  });

  test('a version given to the constructor is used from the first packet', () => {
    assert.deepEqual(decodeOne(fromHex('40 03 0001 10'), 5), { type: 4, packetId: 1, reasonCode: 0x10 });
  });
});

describe('maximum packet size', () => {
  const publish = (size: number): Buffer =>
    encodePacket({ type: 3, topic: 't', payload: Buffer.alloc(size), qos: 0, retain: false, dup: false }, 4);

  test('a packet exactly at the limit is accepted, one byte over throws 0x95', () => {
    const bytes = publish(100);
    assert.equal(collect(new PacketDecoder({ maximumPacketSize: bytes.length }), bytes).length, 1);
    const err = decodeErrorWith(new PacketDecoder({ maximumPacketSize: bytes.length - 1 }), bytes);
    assert.equal(err.reasonCode, ReasonCode.PacketTooLarge);
  });

  test('throws 0x95 as soon as the Remaining Length is known, before the body arrives', () => {
    const bytes = publish(10_000);
    const decoder = new PacketDecoder({ maximumPacketSize: 1000 });
    // Only the fixed header: 1 type byte and 2 length bytes.
    const err = decodeErrorWith(decoder, bytes.subarray(0, 3));
    assert.equal(err.reasonCode, ReasonCode.PacketTooLarge);
  });

  test('a length split across chunks is checked when its last byte arrives', () => {
    const bytes = publish(10_000);
    const decoder = new PacketDecoder({ maximumPacketSize: 1000 });
    collect(decoder, bytes.subarray(0, 2));
    assert.equal(decodeErrorWith(decoder, bytes.subarray(2, 3)).reasonCode, ReasonCode.PacketTooLarge);
  });

  test('the limit can be changed after construction (once CONNECT has been read)', () => {
    const decoder = new PacketDecoder();
    decoder.maximumPacketSize = 50;
    assert.equal(decodeErrorWith(decoder, publish(100)).reasonCode, ReasonCode.PacketTooLarge);
  });

  test('defaults to the protocol maximum: a 268,435,455-byte Remaining Length is not refused', () => {
    const decoder = new PacketDecoder();
    assert.equal(decoder.maximumPacketSize, 268_435_455 + 5);
    const before = process.memoryUsage().arrayBuffers;
    // The header announces the largest packet there is; only 20 bytes of it follow.
    collect(decoder, Buffer.concat([fromHex('30 ffffff7f 0001 74'), Buffer.alloc(17)]));
    // Memory is taken as bytes arrive, not as announced.
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
  });
});

describe('stopping and errors', () => {
  const three = Buffer.concat([fromHex('c0 00'), fromHex('c0 00'), fromHex('d0 00')]);

  test('a sink returning false stops decoding; the rest of the chunk is dropped', () => {
    const decoder = new PacketDecoder();
    const seen: Packet[] = [];
    decoder.decode(Buffer.concat([three, fromHex('30 05 00')]), (p) => {
      seen.push(p);
      return seen.length < 2;
    });
    assert.deepEqual(seen, [{ type: 12 }, { type: 12 }]);
    // The partial PUBLISH at the end was dropped too: the next chunk starts afresh.
    assert.deepEqual(collect(decoder, fromHex('d0 00')), [{ type: 13 }]);
  });

  test('a sink returning true or nothing goes on', () => {
    const decoder = new PacketDecoder();
    let n = 0;
    decoder.decode(three, () => {
      n++;
      return true;
    });
    assert.equal(n, 3);
  });

  test('an exception from the sink passes through unchanged', () => {
    const decoder = new PacketDecoder();
    const bug = new TypeError('broker bug');
    assert.throws(() => decoder.decode(three, () => {
      throw bug;
    }), (e: unknown) => e === bug);
  });

  test('decodeTo hands each packet to handlePacket, stops when it returns false, and returns what was left', () => {
    const decoder = new PacketDecoder();
    const seen: Packet[] = [];
    const handler = {
      handlePacket(p: Packet): boolean {
        seen.push(p);
        return seen.length < 2;
      },
    };
    const rest = decoder.decodeTo(Buffer.concat([three, fromHex('30 05 00')]), handler);
    assert.deepEqual(seen, [{ type: 12 }, { type: 12 }]);
    // Not decoded: the PINGRESP and the start of a PUBLISH after the second packet.
    assert.deepEqual(rest, Buffer.concat([fromHex('d0 00'), fromHex('30 05 00')]));
    assert.deepEqual(collect(decoder, fromHex('d0 00')), [{ type: 13 }]);
  });

  test('decodeTo: an exception from handlePacket passes through unchanged', () => {
    const bug = new TypeError('broker bug');
    const handler = {
      handlePacket(): void {
        throw bug;
      },
    };
    assert.throws(() => new PacketDecoder().decodeTo(three, handler), (e: unknown) => e === bug);
  });

  test('an unexpected failure inside the decoder becomes a malformed-packet error', () => {
    // A Uint8Array is not a Buffer: decoding its string fails inside, with a TypeError.
    const notABuffer = new Uint8Array([0x30, 0x03, 0x00, 0x01, 0x61]) as Buffer;
    const err = decodeErrorWith(new PacketDecoder(), notABuffer);
    assert.equal(err.reasonCode, ReasonCode.MalformedPacket);
  });

  test('after an error the held-back bytes are dropped', () => {
    const decoder = new PacketDecoder();
    collect(decoder, fromHex('30 05 0001'));
    assert.throws(() => collect(decoder, fromHex('61 00 00 ff')));
    assert.deepEqual(collect(decoder, fromHex('c0 00')), [{ type: 12 }]);
  });
});

describe('strings', () => {
  test('[MQTT-1.5.3-3] (v3.1.1) U+FEFF in a string is kept, not stripped', () => {
    const bytes = fromHex('30 0a 0008 efbbbf 61 efbbbf 62');
    const p = decodeOne(bytes, 4);
    assert.ok(p.type === 3);
    assert.equal(p.topic, '\ufeffa\ufeffb');
  });

  test('[MQTT-1.5.4-3] (v5) U+FEFF in a string is kept, not stripped', () => {
    const bytes = fromHex('30 08 0005 efbbbf 6162 00');
    const p = decodeOne(bytes, 5);
    assert.ok(p.type === 3);
    assert.equal(p.topic, '\ufeffab');
  });

  test('[MQTT-1.5.3-1] (v3.1.1) well-formed characters of every UTF-8 length decode', () => {
    const topic = 'a/ü/€/𝄞/\u{10ffff}';
    const bytes = encodePacket({ type: 3, topic, payload: Buffer.alloc(0), qos: 0, retain: false, dup: false }, 4);
    const p = decodeOne(bytes, 4);
    assert.ok(p.type === 3 && p.topic === topic);
  });

  test('topics are decoded but not judged: wildcards and empty topics are the broker\'s to refuse', () => {
    const p = decodeOne(fromHex('30 05 0003 612f23'), 4);
    assert.ok(p.type === 3 && p.topic === 'a/#');
    const q = decodeOne(fromHex('30 02 0000'), 4);
    assert.ok(q.type === 3 && q.topic === '');
  });
});

test('(v5) AUTH with a reason code and no Property Length is read leniently', () => {
  assert.deepEqual(decodeOne(fromHex('f0 01 18'), 5), { type: 15, reasonCode: 0x18 });
});

test('(v5) acknowledgements with Remaining Length 2, 3 and 4 are read', () => {
  assert.deepEqual(decodeOne(fromHex('50 02 0009'), 5), { type: 5, packetId: 9, reasonCode: 0 });
  assert.deepEqual(decodeOne(fromHex('50 03 0009 80'), 5), { type: 5, packetId: 9, reasonCode: 0x80 });
  assert.deepEqual(decodeOne(fromHex('50 04 0009 80 00'), 5), { type: 5, packetId: 9, reasonCode: 0x80 });
});

test('(v5) a second CONNECT is decoded (the broker refuses it) and sets the version again', () => {
  const decoder = new PacketDecoder();
  const packets = collect(decoder, encodePacket(connect(5), 5), encodePacket(connect(4), 4));
  assert.equal(packets.length, 2);
  assert.equal(decoder.protocolVersion, 4);
});

function decodeErrorWith(decoder: PacketDecoder, bytes: Buffer): MqttProtocolError {
  try {
    collect(decoder, bytes);
  } catch (err) {
    if (err instanceof MqttProtocolError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

test('(v5) a CONNECT refused as too large still sets the version when its level has arrived', () => {
  const big: ConnectPacket = { ...connect(5), clientId: 'x'.repeat(500) };
  const decoder = new PacketDecoder({ maximumPacketSize: 100 });
  const err = decodeErrorWith(decoder, encodePacket(big, 5).subarray(0, 20));
  assert.equal(err.reasonCode, ReasonCode.PacketTooLarge);
  assert.equal(decoder.protocolVersion, 5);
  // Cut before the level, it stays unknown.
  const early = new PacketDecoder({ maximumPacketSize: 100 });
  decodeErrorWith(early, encodePacket(big, 5).subarray(0, 8));
  assert.equal(early.protocolVersion, undefined);
});
