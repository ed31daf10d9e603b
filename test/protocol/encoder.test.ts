// The encoder: the PUBLISH hot path, stamping packet identifiers into shared encodings, the
// forms it chooses, and the input it refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MqttProtocolError, ReasonCode, encodePacket, encodePublish, encodedLength, withPacketId,
  type Packet, type ProtocolVersion, type PublishPacket,
} from '../../src/protocol/index.js';
import { ALL_FIXTURES, fromHex } from './fixtures.js';
import { decodeOne, hex } from './helpers/decode.js';
import { encodeAck } from '../../src/protocol/encode/ack.js';

const publish = (fields: Partial<PublishPacket> = {}): PublishPacket => ({
  type: 3, topic: 'a/b', payload: Buffer.from('data'), qos: 1, retain: false, dup: false, packetId: 1, ...fields,
});

function throwsCode(fn: () => unknown, reasonCode: number = ReasonCode.MalformedPacket): void {
  assert.throws(fn, (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === reasonCode);
}

describe('encodePublish', () => {
  test('writes the same bytes as encodePacket for every PUBLISH of the corpus', () => {
    for (const { version, packet } of ALL_FIXTURES) {
      if (packet.type === 3) assert.equal(hex(encodePublish(packet, version)), hex(encodePacket(packet, version)));
    }
  });

  test('payloads around the allocation thresholds round trip and do not share bytes', () => {
    const encoded: [Buffer, PublishPacket][] = [];
    for (const size of [0, 1, 127, 128, 4000, 4096, 5000, 16_000, 16_400, 70_000]) {
      const p = publish({ payload: Buffer.alloc(size, size & 0xff), qos: 0, packetId: undefined });
      delete p.packetId;
      encoded.push([encodePublish(p, 4), p]);
    }
    for (const [bytes, p] of encoded) assert.deepEqual(decodeOne(bytes, 4), p);
  });

  test('[MQTT-3.3.1-2] (v3.1.1) DUP is never written on QoS 0', () => {
    assert.equal(encodePublish(publish({ qos: 0, dup: true }), 4)[0], 0x30);
  });

  test('[MQTT-3.3.1-2] (v5) DUP is never written on QoS 0', () => {
    assert.equal(encodePublish(publish({ qos: 0, dup: true }), 5)[0], 0x30);
  });

  test('[MQTT-2.3.1-5] (v3.1.1) a QoS 0 PUBLISH has no packet identifier, even if one is given', () => {
    assert.equal(hex(encodePublish(publish({ qos: 0, packetId: 5 }), 4)), hex(fromHex('30 09 0003 612f62 64617461')));
  });

  test('[MQTT-2.2.1-2] (v5) a QoS 0 PUBLISH has no packet identifier, even if one is given', () => {
    assert.equal(hex(encodePublish(publish({ qos: 0, packetId: 5 }), 5)), hex(fromHex('30 0a 0003 612f62 00 64617461')));
  });

  test('[MQTT-2.2.2-1] (v5) a PUBLISH without properties still has a Property Length of 0', () => {
    assert.equal(hex(encodePublish(publish({ properties: {} }), 5)), hex(fromHex('32 0c 0003 612f62 0001 00 64617461')));
  });

  test('properties are left out below 5.0', () => {
    const withProps = publish({ properties: { contentType: 'x', userProperties: [['a', 'b']] } });
    assert.equal(hex(encodePublish(withProps, 4)), hex(encodePublish(publish(), 4)));
  });

  test('[MQTT-2.3.1-1] (v3.1.1) a QoS 1 or 2 PUBLISH needs a packet identifier from 1 to 65535', () => {
    for (const packetId of [undefined, 0, 65536, 1.5, -1]) throwsCode(() => encodePublish(publish({ packetId }), 4));
    throwsCode(() => encodePublish(publish({ qos: 2, packetId: 0 }), 4));
  });

  test('[MQTT-3.3.1-4] (v3.1.1) QoS 3 is refused', () => {
    throwsCode(() => encodePublish(publish({ qos: 3 as 0 }), 4));
  });

  test('[MQTT-4.7.3-3] (v3.1.1) a topic over 65,535 bytes is refused; one of exactly 65,535 is written', () => {
    throwsCode(() => encodePublish(publish({ topic: 'a'.repeat(65_536) }), 4));
    throwsCode(() => encodePublish(publish({ topic: 'ü'.repeat(32_768) }), 4));
    const bytes = encodePublish(publish({ topic: 'a'.repeat(65_535) }), 4);
    // One type byte and three Remaining Length bytes come before the topic length.
    assert.equal((bytes[4] << 8) | bytes[5], 65_535);
  });

  test('[MQTT-4.7.3-3] (v5) a topic over 65,535 bytes is refused', () => {
    throwsCode(() => encodePublish(publish({ topic: '€'.repeat(21_846) }), 5));
  });

  test('[MQTT-4.7.3-2] (v3.1.1) a topic with U+0000 is refused', () => {
    throwsCode(() => encodePublish(publish({ topic: 'a\u0000b' }), 4));
  });

  test('[MQTT-1.5.4-1] (v5) a string with a lone surrogate is refused', () => {
    throwsCode(() => encodePublish(publish({ topic: 'a\ud800b' }), 5));
    throwsCode(() => encodePublish(publish({ topic: 'a\udc00' }), 5));
    throwsCode(() => encodePublish(publish({ topic: '\ud83d' }), 5));
    assert.doesNotThrow(() => encodePublish(publish({ topic: '\ud83d\ude00' }), 5));
  });

  test('[MQTT-1.5.4-1] [MQTT-1.5.4-2] (v5) strings short and long (measured in JavaScript up to 32 code units, natively past that) follow the same rules', () => {
    for (const n of [1, 31, 32, 33, 64, 300]) {
      const ascii = 'a'.repeat(n);
      throwsCode(() => encodePublish(publish({ topic: `${ascii}\u0000` }), 5));
      throwsCode(() => encodePublish(publish({ topic: `\u0000${ascii}` }), 5));
      throwsCode(() => encodePublish(publish({ topic: `${ascii}\ud800` }), 5));
      for (const topic of [ascii, `${ascii}/ü`, `€${ascii}`]) {
        const bytes = encodePublish(publish({ topic }), 5);
        const packet = decodeOne(bytes, 5);
        assert.ok(packet.type === 3 && packet.topic === topic, `topic of ${topic.length} code units`);
      }
    }
  });

  test('a packet over the protocol maximum throws 0x95', () => {
    const payload = Buffer.allocUnsafe(268_435_455 - 6);
    throwsCode(() => encodePublish(publish({ payload }), 4), ReasonCode.PacketTooLarge);
    throwsCode(() => encodedLength(publish({ payload }), 4), ReasonCode.PacketTooLarge);
  });
});

describe('withPacketId', () => {
  test('returns a copy with the new identifier; the original is untouched', () => {
    for (const version of [3, 4, 5] as const) {
      const p = publish({ topic: 'sensors/ü', payload: Buffer.alloc(300, 1), packetId: 1, properties: { contentType: 'c' } });
      const shared = encodePublish(p, version);
      const before = hex(shared);
      const copy = withPacketId(shared, 0xbeef);
      assert.equal(hex(shared), before);
      assert.notEqual(copy.buffer === shared.buffer && copy.byteOffset === shared.byteOffset, true);
      assert.deepEqual(decodeOne(copy, version), { ...(decodeOne(shared, version) as PublishPacket), packetId: 0xbeef });
      assert.equal(hex(copy), hex(encodePublish({ ...p, packetId: 0xbeef }, version)));
    }
  });

  test('sets DUP when asked and clears it otherwise', () => {
    const shared = encodePublish(publish({ qos: 2 }), 4);
    assert.equal(withPacketId(shared, 2, true)[0], 0x3c);
    assert.equal(withPacketId(withPacketId(shared, 2, true), 3)[0], 0x34);
  });

  test('refuses QoS 0, other packet types and identifiers outside 1-65535', () => {
    throwsCode(() => withPacketId(encodePublish(publish({ qos: 0 }), 4), 1));
    throwsCode(() => withPacketId(fromHex('40 02 0001'), 1));
    const shared = encodePublish(publish(), 4);
    for (const id of [0, 65_536, 2.5]) throwsCode(() => withPacketId(shared, id));
  });
});

describe('encodePacket', () => {
  test('(v5) acknowledgements use the shortest form', () => {
    assert.equal(hex(encodePacket({ type: 4, packetId: 1 }, 5)), '40020001');
    assert.equal(hex(encodePacket({ type: 7, packetId: 1, reasonCode: 0x92 }, 5)), '7003000192');
    assert.equal(hex(encodePacket({ type: 6, packetId: 1, properties: {} }, 5)), '62020001');
    assert.equal(hex(encodePacket({ type: 5, packetId: 1, properties: { reasonString: 'r' } }, 5)), '5008000100041f000172');
  });

  test('(v5) DISCONNECT and AUTH use the shortest form', () => {
    assert.equal(hex(encodePacket({ type: 14 }, 5)), 'e000');
    assert.equal(hex(encodePacket({ type: 14, reasonCode: 0x8b }, 5)), 'e0018b');
    assert.equal(hex(encodePacket({ type: 15 }, 5)), 'f000');
    assert.equal(hex(encodePacket({ type: 15, reasonCode: 0x18 }, 5)), 'f0021800');
  });

  test('5.0-only fields are left out below 5.0', () => {
    assert.equal(hex(encodePacket({ type: 4, packetId: 1, reasonCode: 0x10, properties: { reasonString: 'x' } }, 4)), '40020001');
    assert.equal(hex(encodePacket({ type: 14, reasonCode: 4 }, 4)), 'e000');
    assert.equal(hex(encodePacket({ type: 11, packetId: 1, reasonCodes: [0x11] }, 4)), 'b0020001');
    const sub: Packet = { type: 8, packetId: 1, subscriptions: [{ topicFilter: 'a', qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 }] };
    assert.equal(hex(encodePacket(sub, 4)), hex(fromHex('82 06 0001 0001 61 01')));
  });

  test('[MQTT-3.2.2-4] (v3.1.1) a refusing CONNACK cannot claim a session', () => {
    throwsCode(() => encodePacket({ type: 2, sessionPresent: true, reasonCode: 5 }, 4));
  });

  test('[MQTT-3.2.2-6] (v5) a refusing CONNACK cannot claim a session', () => {
    throwsCode(() => encodePacket({ type: 2, sessionPresent: true, reasonCode: 0x87 }, 5));
  });

  test('[MQTT-3.2.2-8] (v5) a CONNACK uses only the defined reason codes', () => {
    throwsCode(() => encodePacket({ type: 2, sessionPresent: false, reasonCode: 0x01 }, 5));
    throwsCode(() => encodePacket({ type: 2, sessionPresent: false, reasonCode: 0x86 }, 4));
  });

  test('[MQTT-3.9.3-2] (v3.1.1) a SUBACK uses only 0, 1, 2 and 0x80', () => {
    throwsCode(() => encodePacket({ type: 9, packetId: 1, reasonCodes: [0x87] }, 4));
    throwsCode(() => encodePacket({ type: 9, packetId: 1, reasonCodes: [] }, 4));
  });

  test('[MQTT-3.9.3-2] (v5) a SUBACK uses only the defined reason codes', () => {
    throwsCode(() => encodePacket({ type: 9, packetId: 1, reasonCodes: [3] }, 5));
  });

  test('[MQTT-3.11.3-2] (v5) an UNSUBACK has defined reason codes, at least one', () => {
    throwsCode(() => encodePacket({ type: 11, packetId: 1, reasonCodes: [0x10] }, 5));
    throwsCode(() => encodePacket({ type: 11, packetId: 1 }, 5));
  });

  test('[MQTT-3.4.2-1] (v5) an acknowledgement uses only its defined reason codes', () => {
    throwsCode(() => encodePacket({ type: 4, packetId: 1, reasonCode: 0x92 }, 5));
    throwsCode(() => encodePacket({ type: 6, packetId: 1, reasonCode: 0x10 }, 5));
  });

  test('[MQTT-3.14.2-1] (v5) a DISCONNECT uses only the defined reason codes', () => {
    throwsCode(() => encodePacket({ type: 14, reasonCode: 0x05 }, 5));
  });

  test('[MQTT-3.15.2-1] (v5) an AUTH uses only the defined reason codes, and only in 5.0', () => {
    throwsCode(() => encodePacket({ type: 15, reasonCode: 0x01 }, 5));
    throwsCode(() => encodePacket({ type: 15 }, 4));
  });

  test('[MQTT-3.8.3-3] (v3.1.1) a SUBSCRIBE needs a topic filter, and filters are not empty', () => {
    throwsCode(() => encodePacket({ type: 8, packetId: 1, subscriptions: [] }, 4));
    throwsCode(() => encodePacket({ type: 8, packetId: 1, subscriptions: [
      { topicFilter: '', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }, 4));
  });

  test('[MQTT-3.10.3-2] (v5) an UNSUBSCRIBE needs a topic filter, and filters are not empty', () => {
    throwsCode(() => encodePacket({ type: 10, packetId: 1, topicFilters: [] }, 5));
    throwsCode(() => encodePacket({ type: 10, packetId: 1, topicFilters: [''] }, 5));
  });

  test('[MQTT-3.1.2-22] (v3.1.1) a CONNECT cannot carry a password without a user name', () => {
    const p: Packet = { type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId: 'c', password: Buffer.from('x') };
    throwsCode(() => encodePacket(p, 4));
    assert.doesNotThrow(() => encodePacket({ ...p, protocolVersion: 5 }, 5));
  });

  test('a CONNECT is encoded only for its own protocol level and name', () => {
    const p: Packet = { type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId: 'c' };
    throwsCode(() => encodePacket(p, 5));
    throwsCode(() => encodePacket({ ...p, protocolName: 'MQIsdp' }, 4));
    throwsCode(() => encodePacket({ ...p, keepAlive: 65_536 }, 4));
    throwsCode(() => encodePacket({ ...p, will: { topic: 't', payload: Buffer.alloc(0), qos: 3 as 0, retain: false } }, 4));
  });

  test('(v5) properties must be allowed in the packet and have allowed values', () => {
    throwsCode(() => encodePacket({ type: 2, sessionPresent: false, reasonCode: 0, properties: { topicAlias: 1 } }, 5));
    throwsCode(() => encodePacket({ type: 14, properties: { bogus: 1 } as never }, 5));
    throwsCode(() => encodePacket({ type: 2, sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 0 } }, 5),
      ReasonCode.ProtocolError);
    throwsCode(() => encodePacket({ type: 2, sessionPresent: false, reasonCode: 0, properties: { maximumQoS: 2 } }, 5),
      ReasonCode.ProtocolError);
    throwsCode(() => encodePacket({ type: 8, packetId: 1, properties: { subscriptionIdentifiers: [1, 2] }, subscriptions: [
      { topicFilter: 'a', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }, 5), ReasonCode.ProtocolError);
    throwsCode(() => encodePacket({ type: 14, properties: { sessionExpiryInterval: 1.5 } }, 5));
    throwsCode(() => encodePacket({ type: 14, properties: { reasonString: 'a'.repeat(65_536) } }, 5));
    throwsCode(() => encodePacket({ type: 14, properties: { userProperties: [['a', 'b\u0000']] } }, 5));
  });

  test('refuses an unknown protocol level', () => {
    throwsCode(() => encodePacket({ type: 12 }, 6 as ProtocolVersion));
  });

  test('[MQTT-1.5.4-3] (v5) U+FEFF is written as EF BB BF', () => {
    const bytes = encodePacket({ type: 10, packetId: 1, topicFilters: ['\ufeff'] }, 5);
    assert.equal(hex(bytes), 'a2080001000003efbbbf');
  });
});

describe('encodeAck (the broker\'s acknowledgements, without properties)', () => {
  const types = [4, 5, 6, 7] as const;
  const codesFor = { 4: [0, 0x10, 0x80, 0x87, 0x97], 5: [0, 0x10, 0x80, 0x91], 6: [0, 0x92], 7: [0, 0x92] } as const;

  test('writes the same bytes as encodePacket for every type, version and reason code', () => {
    for (const version of [3, 4, 5] as ProtocolVersion[]) {
      for (const type of types) {
        for (const reasonCode of codesFor[type]) {
          for (const packetId of [1, 255, 256, 0x1234, 0xffff]) {
            const packet = { type, packetId, reasonCode } as Packet;
            assert.equal(hex(encodeAck(type, packetId, reasonCode, version)), hex(encodePacket(packet, version)), `type ${type} v${version} code ${reasonCode} id ${packetId}`);
          }
        }
      }
    }
  });

  test('[MQTT-3.6.1-1] (v3.1.1) PUBREL carries the fixed header flags 0010, the other acks 0000', () => {
    assert.equal(encodeAck(6, 1, 0, 4)[0], 0x62);
    assert.equal(encodeAck(4, 1, 0, 4)[0], 0x40);
    assert.equal(encodeAck(5, 1, 0, 4)[0], 0x50);
    assert.equal(encodeAck(7, 1, 0, 4)[0], 0x70);
  });

  test('refuses a packet id outside 1-65535 and a reason code the type does not define', () => {
    throwsCode(() => encodeAck(4, 0, 0, 4));
    throwsCode(() => encodeAck(4, 0x10000, 0, 5));
    throwsCode(() => encodeAck(6, 1, 0x10, 5));
  });
});
