// Every packet of the malformed corpus is refused with its reason code, whole, split at every
// byte and after a valid packet in the same chunk (so the valid one is delivered first).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MqttProtocolError, PacketDecoder, type Packet } from '../../src/protocol/index.js';
import { MALFORMED_CORPUS } from './malformed-corpus.js';
import { decodeError } from './helpers/decode.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

describe('malformed packets', () => {
  for (const { name, version, bytes, reasonCode } of MALFORMED_CORPUS) {
    test(name, () => {
      const err = decodeError(bytes, version);
      assert.equal(hex(err.reasonCode), hex(reasonCode), err.message);

      // Split anywhere, the error is the same (and comes no later than the last byte).
      for (let cut = 1; cut < bytes.length; cut++) {
        const decoder = new PacketDecoder({ protocolVersion: version });
        const seen: Packet[] = [];
        let caught: unknown;
        try {
          decoder.decode(bytes.subarray(0, cut), (p) => void seen.push(p));
          decoder.decode(bytes.subarray(cut), (p) => void seen.push(p));
        } catch (e) {
          caught = e;
        }
        assert.ok(caught instanceof MqttProtocolError, `cut at ${cut}: ${String(caught)}`);
        assert.equal(hex(caught.reasonCode), hex(reasonCode), `cut at ${cut}`);
        assert.equal(seen.length, 0);
      }

      // After a good packet in the same chunk: that one is delivered, then the error.
      const decoder = new PacketDecoder({ protocolVersion: version });
      const seen: Packet[] = [];
      assert.throws(
        () => decoder.decode(Buffer.concat([Buffer.from([0xc0, 0x00]), bytes]), (p) => void seen.push(p)),
        (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === reasonCode,
      );
      assert.deepEqual(seen, [{ type: 12 }]);
    });
  }
});
