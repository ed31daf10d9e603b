// Codec benchmark (not a test): decode and encode rates of Midge's codec against mqtt-packet
// (the codec of MQTT.js and Aedes), in the same process and run.
//   npm run bench:codec                      both protocol levels 4 (3.1.1) and 5
//   npm run bench:codec -- --version 5 --time 1000 --runs 5 --only "encode PUBLISH"
// Each case runs for a fixed time per repetition; Midge and mqtt-packet alternate, and the
// median of the repetitions is reported. Decoding reads a stream of packets cut into 64 KiB
// chunks, as a socket delivers them, so some packets are split across chunks.
import v8 from 'node:v8';
import vm from 'node:vm';
import mqtt from 'mqtt-packet';
import {
  PacketDecoder,
  encodePacket,
  encodePublish,
  type Packet,
  type ProtocolVersion,
  type PublishPacket,
} from '../src/protocol/index.js';

type MqttPacket = mqtt.Packet;

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const TIME_MS = option('time', 250);
const RUNS = option('runs', 5);
const VERSIONS: ProtocolVersion[] = args.includes('--version') ? [option('version', 4) as ProtocolVersion] : [4, 5];
const onlyAt = args.indexOf('--only');
const ONLY = onlyAt >= 0 ? args[onlyAt + 1] : '';
const CHUNK = 64 * 1024;
const TOPIC = 'sensors/building-1/floor-2/temperature';

interface Case {
  name: string;
  midge: Packet[];
  reference: MqttPacket[];
}

function publishCase(size: number, qos: 0 | 1): Case {
  const payload = Buffer.alloc(size, 0x61);
  const midge: PublishPacket = { type: 3, topic: TOPIC, payload, qos, retain: false, dup: false };
  if (qos > 0) midge.packetId = 42;
  const reference: MqttPacket = { cmd: 'publish', topic: TOPIC, payload, qos, retain: false, dup: false, messageId: 42 };
  return { name: `PUBLISH QoS ${qos} ${size < 1024 ? `${size} B` : `${size / 1024} KiB`}`, midge: [midge], reference: [reference] };
}

/** What a broker reads from a busy client: mostly publishes and their acks, some control packets. */
function mixedCase(): Case {
  const payload = Buffer.alloc(64, 0x62);
  const midge: Packet[] = [
    { type: 3, topic: TOPIC, payload, qos: 0, retain: false, dup: false },
    { type: 3, topic: TOPIC, payload, qos: 1, retain: false, dup: false, packetId: 7 },
    { type: 4, packetId: 7 },
    { type: 5, packetId: 8 },
    { type: 6, packetId: 8 },
    { type: 7, packetId: 8 },
    { type: 8, packetId: 9, subscriptions: [
      { topicFilter: 'sensors/+/floor-2/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] },
    { type: 10, packetId: 10, topicFilters: ['sensors/+/floor-2/#'] },
    { type: 12 },
  ];
  const reference: MqttPacket[] = [
    { cmd: 'publish', topic: TOPIC, payload, qos: 0, retain: false, dup: false },
    { cmd: 'publish', topic: TOPIC, payload, qos: 1, retain: false, dup: false, messageId: 7 },
    { cmd: 'puback', messageId: 7 },
    { cmd: 'pubrec', messageId: 8 },
    { cmd: 'pubrel', messageId: 8 },
    { cmd: 'pubcomp', messageId: 8 },
    { cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: 'sensors/+/floor-2/#', qos: 1 }] },
    { cmd: 'unsubscribe', messageId: 10, unsubscriptions: ['sensors/+/floor-2/#'] },
    { cmd: 'pingreq' },
  ];
  return { name: 'mixed stream', midge, reference };
}

const CASES: Case[] = [
  publishCase(16, 0), publishCase(256, 0), publishCase(4096, 0),
  publishCase(16, 1), publishCase(256, 1), publishCase(4096, 1),
  mixedCase(),
];

// Each measurement starts from a collected heap, so that one side does not pay for the garbage
// the other left behind. (The npm script cannot pass --expose-gc, so it is switched on here.)
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** Runs `batch` (which returns how many packets it handled) until TIME_MS has passed; packets/s. */
function rate(batch: () => number): number {
  collectGarbage();
  for (let i = 0; i < 3; i++) batch();
  let packets = 0;
  const start = process.hrtime.bigint();
  const limit = start + BigInt(TIME_MS) * 1_000_000n;
  let now = start;
  do {
    packets += batch();
    now = process.hrtime.bigint();
  } while (now < limit);
  return packets / (Number(now - start) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** A stream of about 1 MiB of the case's packets, cut into socket-sized chunks. */
function chunks(c: Case, version: ProtocolVersion): { chunks: Buffer[]; packets: number } {
  const one = Buffer.concat(c.midge.map((p) => encodePacket(p, version)));
  const copies = Math.max(1, Math.floor((1024 * 1024) / one.length));
  const stream = Buffer.concat(new Array<Buffer>(copies).fill(one));
  const list: Buffer[] = [];
  for (let i = 0; i < stream.length; i += CHUNK) list.push(Buffer.from(stream.subarray(i, i + CHUNK)));
  return { chunks: list, packets: copies * c.midge.length };
}

let sink = 0;

function decodeMidge(c: Case, version: ProtocolVersion): () => number {
  const { chunks: list, packets } = chunks(c, version);
  const decoder = new PacketDecoder({ protocolVersion: version });
  const onPacket = (p: Packet): void => {
    sink += p.type;
  };
  return () => {
    for (const chunk of list) decoder.decode(chunk, onPacket);
    return packets;
  };
}

function decodeReference(c: Case, version: ProtocolVersion): () => number {
  const { chunks: list, packets } = chunks(c, version);
  const parser = mqtt.parser({ protocolVersion: version });
  parser.on('packet', (p: MqttPacket) => {
    sink += p.cmd.length;
  });
  parser.on('error', (err: Error) => {
    throw err;
  });
  return () => {
    for (const chunk of list) parser.parse(chunk);
    return packets;
  };
}

function encodeMidge(c: Case, version: ProtocolVersion): () => number {
  const packets = c.midge;
  if (packets.length === 1 && packets[0].type === 3) {
    const p = packets[0];
    return () => {
      for (let i = 0; i < 1000; i++) sink += encodePublish(p, version).length;
      return 1000;
    };
  }
  return () => {
    for (let i = 0; i < 100; i++) for (const p of packets) sink += encodePacket(p, version).length;
    return 100 * packets.length;
  };
}

function encodeReference(c: Case, version: ProtocolVersion): () => number {
  const packets = c.reference;
  const opts = { protocolVersion: version };
  return () => {
    for (let i = 0; i < 100; i++) for (const p of packets) sink += mqtt.generate(p, opts).length;
    return 100 * packets.length;
  };
}

const format = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);

function compare(label: string, midge: () => number, reference: () => number): string[] {
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    ours.push(rate(midge));
    theirs.push(rate(reference));
  }
  const m = median(ours);
  const r = median(theirs);
  return [label, format(m), format(r), `${(m / r).toFixed(2)}x`];
}

function printTable(rows: string[][]): void {
  const header = ['case', 'Midge pkt/s', 'mqtt-packet pkt/s', 'Midge/mqtt-packet'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

console.log(`node ${process.version}, ${TIME_MS} ms per measurement, median of ${RUNS}`);
for (const version of VERSIONS) {
  const rows: string[][] = [];
  for (const c of CASES) {
    const label = `v${version} decode ${c.name}`;
    if (label.includes(ONLY)) rows.push(compare(label, decodeMidge(c, version), decodeReference(c, version)));
  }
  for (const c of CASES) {
    const label = `v${version} encode ${c.name}`;
    if (label.includes(ONLY)) rows.push(compare(label, encodeMidge(c, version), encodeReference(c, version)));
  }
  console.log();
  printTable(rows);
}
if (sink === 0.5) console.log(sink);
