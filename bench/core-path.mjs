// CPU per message of Midge's core alone: no sockets, no load generator, no scheduler. Fake
// connections hand the broker ready-made chunks of PUBLISH (and, at QoS 1, of the subscribers'
// PUBACK), one pair after another, as each build's TCP transport hands over a read, so every
// build does the same work in the same order. On a 2-vCPU VM the socket benchmarks swing by a
// tenth or more from one round to the next; this measures a change to decoding, routing,
// encoding or the write path to a few percent on a quiet machine. On a busy one, runs swing by a
// third: --instructions counts instructions per message under valgrind instead, which holds to
// 0.1% however busy the machine is (user-space work only: there are no system calls here anyway).
//
// At a low rate every message finds the caches cold (the other processes ran in between), so
// its cost is also the memory it touches: --lines counts the cache lines of data it reads or
// writes that are not in the cache, under callgrind's cache simulation with the caches emptied
// before each chunk.
//
// Run (after npm run build): node bench/core-path.mjs [--baseline DIR] [--rounds 5] [--messages 300000] [--shapes a,b] [--instructions | --lines]
//   DIR is another built checkout (see "A change against the code before it" in bench/README.md).
// Each round runs each shape once per build, each in a fresh process, builds alternating.
// Shapes: 10 pairs on their own topics, 64-byte payloads; one PUBLISH per chunk (the low-rate
// shape), 5 or 20 per chunk (the saturated one), QoS 0 or QoS 1.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, option } from './loopback.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));
const SHAPES = ['qos0-1', 'qos0-5', 'qos0-20', 'qos1-1', 'qos1-5', 'qos1-20'];
const PAIRS = 10;

/**
 * One run of a shape under valgrind's callgrind, its output in `file`. --predictable: V8 without
 * helper threads and without timing-driven heuristics (heap growth, when to collect), whose
 * choices would otherwise change the counts by a third.
 */
function callgrind(file, tool, build, shape, n, timeout, runArgs = []) {
  const args = ['--tool=callgrind', ...tool, `--callgrind-out-file=${file}`, process.execPath, '--predictable', fileURLToPath(import.meta.url), '--run', build, shape, String(n), ...runArgs];
  const out = spawnSync('valgrind', args, { encoding: 'utf8', timeout });
  if (out.status !== 0) throw new Error(`callgrind of ${shape} on ${build} failed: ${out.error ?? out.stderr.slice(-2000)}`);
}

/**
 * Instructions per message under valgrind's callgrind, which counts instructions rather than
 * timing them: with V8's --predictable the same build gives the same count to within 0.1%
 * whatever else the machine is doing. Two runs of different lengths per build and shape; their
 * difference over the extra messages leaves out start-up and warm-up. It counts user-space work
 * on the broker's one thread, garbage collection included. Slow: about 3 minutes per build and
 * shape.
 */
function countInstructions(builds, shapes) {
  const short = 60_000;
  const long = 160_000;
  // A run measures `n` messages after a warm-up of min(100,000, n): the long run sends this many more.
  const extra = long + Math.min(100_000, long) - short - Math.min(100_000, short);
  const dir = mkdtempSync(join(tmpdir(), 'midge-callgrind-'));
  const total = (build, shape, n) => {
    const file = join(dir, 'callgrind.out');
    callgrind(file, [], build, shape, n, 900_000);
    const line = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
    if (line === null) throw new Error(`no instruction total in the callgrind output of ${shape} on ${build}`);
    return Number(line[1]);
  };
  try {
    console.log(`instructions per message (callgrind; ${short} and ${long} messages per run, the difference over ${extra})`);
    for (const shape of shapes) {
      const counts = builds.map(([, build]) => (total(build, shape, long) - total(build, shape, short)) / extra);
      const cells = counts.map((c, b) => `${builds[b][0]} ${Math.round(c)}`);
      const ratio = counts.length > 1 ? `  this/baseline ${(counts[0] / counts[1]).toFixed(3)}` : '';
      console.log(`${shape.padEnd(8)} ${cells.join('  ')}${ratio}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Simulated caches of --lines: 32 KiB first level, 64 KiB last level, 64-byte lines. */
const CACHES = ['--I1=32768,8,64', '--D1=32768,8,64', '--LL=65536,8,64'];
/** What is scanned before each chunk under --lines: twice the last level, so none of it stays. */
const EVICT_BYTES = 2 * 65536;

/**
 * Data cache lines per message that miss the (emptied) caches, under callgrind's cache
 * simulation: before each chunk the driver scans EVICT_BYTES (Buffer#indexOf, which is libc's
 * memchr), so every chunk starts as at a low rate, with nothing of the broker's in the cache.
 * What memchr itself misses is left out; what remains is the memory the broker's work on a
 * message touches: objects read and written, allocation, garbage collection. Code is not
 * counted (the scan does not empty the instruction cache). Like --instructions, deterministic
 * and independent of the machine's load; about 3 minutes per build and shape.
 */
function countColdLines(builds, shapes) {
  const short = 20_000;
  const long = 50_000;
  // The warm-up is min(100,000, n): here n, so a run drives 2n messages.
  const extra = 2 * long - 2 * short;
  const dir = mkdtempSync(join(tmpdir(), 'midge-cachegrind-'));
  const misses = (build, shape, n) => {
    const file = join(dir, 'callgrind.out');
    callgrind(file, ['--cache-sim=yes', ...CACHES], build, shape, n, 1_800_000, ['--cold']);
    const annotated = spawnSync('callgrind_annotate', ['--show=D1mr,D1mw,DLmr,DLmw', '--threshold=100', '--auto=no', '--show-percs=no', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (annotated.status !== 0) throw new Error(`callgrind_annotate failed: ${annotated.stderr}`);
    // Four columns, in the order asked for; '.' is a count of 0.
    const numbers = (line) => line.trim().split(/\s+/).slice(0, 4).map((x) => (x === '.' ? 0 : Number(x.replace(/,/g, ''))));
    const lines = annotated.stdout.split('\n');
    const totalLine = lines.find((l) => /PROGRAM TOTALS/.test(l));
    if (totalLine === undefined) throw new Error('no totals in the callgrind_annotate output');
    const total = numbers(totalLine);
    // Per function (code V8 generated has no name: one entry for all of it), and the scan's own
    // misses, in every function whose name says memchr, taken out of the total.
    const byFunction = new Map();
    const scan = [0, 0, 0, 0];
    for (const l of lines.slice(lines.indexOf(totalLine) + 1)) {
      const m = /^\s*([\d,.]+)\s+([\d,.]+)\s+([\d,.]+)\s+([\d,.]+)\s+(.*)$/.exec(l);
      if (m === null) continue;
      const counts = numbers(m.slice(1, 5).join(' '));
      if (/memchr/.test(m[5])) counts.forEach((v, i) => (scan[i] += v));
      const name = /^\?\?\?:0x[0-9a-f]+/i.test(m[5]) || /^0x[0-9a-f]+/i.test(m[5]) ? 'code generated by V8 (JIT)' : m[5].replace(/^.*?:/, '').replace(/ \[.*\]$/, '').replace(/'\d+$/, '');
      const sum = byFunction.get(name) ?? [0, 0, 0, 0];
      counts.forEach((v, i) => (sum[i] += v));
      byFunction.set(name, sum);
    }
    return { counts: total.map((v, i) => v - scan[i]), byFunction };
  };
  const perMessage = (a, b) => a.map((v, i) => (b[i] - v) / extra);
  try {
    console.log(`data cache lines per message with the caches emptied before each chunk (callgrind, ${CACHES.join(' ')}; ${short} and ${long} messages per run, the difference over ${extra})`);
    console.log('  first level: lines read + written that missed it; last level: the same for the last level (from memory)');
    for (const shape of shapes) {
      const runs = builds.map(([, build]) => [misses(build, shape, short), misses(build, shape, long)]);
      const counts = runs.map(([a, b]) => perMessage(a.counts, b.counts));
      const cells = counts.map((c, k) => `${builds[k][0]} first ${(c[0] + c[1]).toFixed(1)} (${c[0].toFixed(1)} r + ${c[1].toFixed(1)} w), last ${(c[2] + c[3]).toFixed(1)} (${c[2].toFixed(1)} r + ${c[3].toFixed(1)} w)`);
      const ratio = counts.length > 1 ? `  this/baseline last ${((counts[0][2] + counts[0][3]) / (counts[1][2] + counts[1][3])).toFixed(3)}` : '';
      console.log(`${shape.padEnd(8)} ${cells.join('  ')}${ratio}`);
      // Where this build's last-level misses per message are, the largest first.
      const [a, b] = runs[0];
      const rows = [...b.byFunction].map(([name, counts]) => [name, perMessage(a.byFunction.get(name) ?? [0, 0, 0, 0], counts)])
        .filter(([name]) => !/memchr/.test(name))
        .sort((x, y) => y[1][2] + y[1][3] - (x[1][2] + x[1][3]))
        .slice(0, 12);
      for (const [name, c] of rows) console.log(`         ${(c[2] + c[3]).toFixed(1).padStart(6)}  ${name.slice(0, 110)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function compare() {
  const rounds = Number(option('rounds', 5));
  const messages = Number(option('messages', 300_000));
  const baseline = option('baseline', undefined);
  const shapes = option('shapes', SHAPES.join(',')).split(',');
  for (const shape of shapes) if (!SHAPES.includes(shape)) throw new Error(`unknown shape ${shape}; the shapes: ${SHAPES.join(', ')}`);
  const builds = [['this build', here], ...(baseline !== undefined ? [['baseline', resolve(baseline)]] : [])];
  if (process.argv.includes('--instructions')) {
    countInstructions(builds, shapes);
    return;
  }
  if (process.argv.includes('--lines')) {
    countColdLines(builds, shapes);
    return;
  }
  /** µs per message by shape, then build. */
  const results = new Map(shapes.map((s) => [s, builds.map(() => [])]));
  for (let round = 0; round < rounds; round++) {
    for (const shape of shapes) {
      builds.forEach(([, dir], b) => {
        const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--run', dir, shape, String(messages)], { encoding: 'utf8', timeout: 120_000 });
        if (out.status !== 0) throw new Error(`${shape} on ${dir} failed: ${out.stderr || out.error}`);
        results.get(shape)[b].push(Number(out.stdout.trim()));
      });
    }
  }
  console.log(`CPU µs per message, median of ${rounds} (${messages} messages per run; each round's runs in brackets)`);
  for (const shape of shapes) {
    const per = results.get(shape);
    const cells = per.map((xs, b) => `${builds[b][0]} ${median(xs).toFixed(3)} [${xs.map((x) => x.toFixed(2)).join(' ')}]`);
    const ratio = per.length > 1 ? `  this/baseline ${(median(per[0]) / median(per[1])).toFixed(3)}` : '';
    console.log(`${shape.padEnd(8)} ${cells.join('  ')}${ratio}`);
  }
}

/** A connection that records what the broker writes; a subscriber's answers PUBACK for each QoS 1 PUBLISH. */
class FakeConnection extends EventEmitter {
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  received = 0;
  /** Packet ids of QoS 1 PUBLISH received and not yet acknowledged. */
  toAck = [];

  write(bytes) {
    // Walks the packets: only what the driver needs (count, and each QoS 1 packet id).
    let pos = 0;
    while (pos < bytes.length) {
      const byte0 = bytes[pos];
      let remaining = 0;
      let shift = 0;
      let p = pos + 1;
      let b;
      do {
        b = bytes[p++];
        remaining |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
      if (byte0 >> 4 === 3) {
        this.received++;
        if ((byte0 & 0x06) !== 0) {
          const topicLength = (bytes[p] << 8) | bytes[p + 1];
          const at = p + 2 + topicLength;
          this.toAck.push((bytes[at] << 8) | bytes[at + 1]);
        }
      }
      pos = p + remaining;
    }
    return true;
  }

  pause() {}
  resume() {}
  end() {}
  destroy() {
    this.emit('close');
  }
}

async function runShape(dir, shape, messages, cold) {
  const dist = (path) => import(pathToFileURL(join(dir, 'dist', path)).href);
  const { Broker } = await dist('broker/broker.js');
  const { createLogger } = await dist('broker/logger.js');
  // The driver's own packets are made by this checkout's encoder: the same bytes for every build.
  const { encodePacket } = await import(pathToFileURL(join(here, 'dist/protocol/encoder.js')).href);
  // Each build's TCP transport, as it hands a read to the core: the bytes are first in one
  // shared read buffer (the copy into it stands in for the kernel's, the same for every build).
  // A build that lends reads (LENDS_READS) passes that buffer and a length; an older one copies
  // each read into a Buffer of its own first, as its transport did.
  const { LENDS_READS: lends } = await dist('transport/tcp-handle.js');
  const readBuffer = lends === true ? Buffer.allocUnsafeSlow(64 * 1024) : new Uint8Array(64 * 1024);
  const evict = cold ? Buffer.alloc(EVICT_BYTES) : undefined;
  const read = (conn, bytes) => {
    // --lines: the scan finds no 1 in the zeroed buffer, so it reads every line of it.
    if (evict !== undefined && evict.indexOf(1) !== -1) throw new Error('the eviction buffer is not zero');
    const n = bytes.length;
    readBuffer.set(bytes);
    if (lends === true) {
      conn.emit('data', readBuffer, n);
      return;
    }
    const chunk = Buffer.allocUnsafe(n);
    chunk.set(readBuffer.subarray(0, n));
    conn.emit('data', chunk);
  };
  const qos = shape.startsWith('qos1') ? 1 : 0;
  const batch = Number(shape.split('-')[1]);
  const broker = new Broker({ logger: createLogger('silent') });
  await broker.start();
  const connect = (conn, clientId) => {
    broker.handleConnection(conn);
    conn.emit('data', encodePacket({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId }, 4));
  };
  const pairs = [];
  for (let i = 0; i < PAIRS; i++) {
    const sub = new FakeConnection();
    const pub = new FakeConnection();
    connect(sub, `core-sub-${i}`);
    connect(pub, `core-pub-${i}`);
    sub.emit('data', encodePacket({ type: 8, packetId: 1, subscriptions: [{ topicFilter: `core/${i}`, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }, 4));
    const payload = Buffer.alloc(64, 120);
    const chunk = Buffer.concat(Array.from({ length: batch }, (_, k) => encodePacket({ type: 3, topic: `core/${i}`, payload, qos, retain: false, dup: false, packetId: qos > 0 ? k + 1 : undefined }, 4)));
    pairs.push({ sub, pub, chunk });
  }
  // Connections and subscriptions are handled at once, except for store work in later turns.
  await new Promise((r) => setTimeout(r, 20));
  const ack = (sub) => {
    if (sub.toAck.length === 0) return;
    const acks = Buffer.allocUnsafe(sub.toAck.length * 4);
    sub.toAck.forEach((id, k) => {
      acks[k * 4] = 0x40;
      acks[k * 4 + 1] = 2;
      acks.writeUInt16BE(id, k * 4 + 2);
    });
    sub.toAck = [];
    read(sub, acks);
  };
  const drive = (count) => {
    for (let sent = 0; sent < count; ) {
      for (const { sub, pub, chunk } of pairs) {
        read(pub, chunk);
        ack(sub);
        sent += batch;
      }
    }
  };
  drive(Math.min(100_000, messages)); // warm up: the JIT settles
  const before = pairs.reduce((n, p) => n + p.sub.received, 0);
  const cpu0 = process.cpuUsage();
  drive(messages);
  const cpu = process.cpuUsage(cpu0);
  const got = pairs.reduce((n, p) => n + p.sub.received, 0) - before;
  if (got < messages) throw new Error(`only ${got} of ${messages} messages arrived`);
  process.stdout.write(`${((cpu.user + cpu.system) / got).toFixed(4)}\n`);
  await broker.close();
}

// Last: the class above must be defined before a run uses it.
if (process.argv[2] === '--run') await runShape(process.argv[3], process.argv[4], Number(process.argv[5]), process.argv[6] === '--cold');
else compare();
