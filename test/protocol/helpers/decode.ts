// Small helpers for decoder tests.
import type { Packet, ProtocolVersion } from '../../../src/protocol/index.js';
import { MqttProtocolError, PacketDecoder } from '../../../src/protocol/index.js';

/** Decodes `chunks` in order with one decoder and returns every packet. */
export function decodeChunks(chunks: Buffer[], version?: ProtocolVersion): Packet[] {
  const decoder = new PacketDecoder({ protocolVersion: version });
  const packets: Packet[] = [];
  for (const chunk of chunks) decoder.decode(chunk, (p) => void packets.push(p));
  return packets;
}

/**
 * Decodes `chunks` in order as a transport that lends its read buffer does: each chunk is copied
 * into one shared buffer and decoded with its length, and the buffer is scrambled after every
 * decode, so a packet that still points into it comes out wrong.
 */
export function decodeLentChunks(chunks: Buffer[], version?: ProtocolVersion): Packet[] {
  const shared = Buffer.alloc(Math.max(64, ...chunks.map((c) => c.length + 16)));
  const decoder = new PacketDecoder({ protocolVersion: version });
  const packets: Packet[] = [];
  for (const chunk of chunks) {
    shared.fill(0xee);
    chunk.copy(shared);
    decoder.decode(shared, (p) => void packets.push(p), undefined, chunk.length);
    shared.fill(0x5c);
  }
  return packets;
}

export const decodeAll = (bytes: Buffer, version?: ProtocolVersion): Packet[] => decodeChunks([bytes], version);

/** Decodes one packet that must be the whole of `bytes`. */
export function decodeOne(bytes: Buffer, version?: ProtocolVersion): Packet {
  const packets = decodeAll(bytes, version);
  if (packets.length !== 1) throw new Error(`expected one packet, got ${packets.length}`);
  return packets[0];
}

/** The MqttProtocolError decoding `bytes` throws (fails if it throws anything else or nothing). */
export function decodeError(bytes: Buffer, version?: ProtocolVersion): MqttProtocolError {
  try {
    decodeAll(bytes, version);
  } catch (err) {
    if (err instanceof MqttProtocolError) return err;
    throw new Error(`expected MqttProtocolError, got ${String(err)}`);
  }
  throw new Error('expected the decoder to throw');
}

/** Cuts `bytes` into chunks at the given offsets. */
export function splitAt(bytes: Buffer, ...offsets: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (const offset of offsets) {
    chunks.push(bytes.subarray(start, offset));
    start = offset;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

export const hex = (bytes: Buffer): string => bytes.toString('hex');
