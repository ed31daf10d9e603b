// Retained QoS 1 delivery inside one process, without sockets: N retained messages, then five
// subscribers of `bench/ret/#` in turn, each on a fake connection that acknowledges every
// PUBLISH in the next turn of the event loop. Prints the CPU per message of each delivery, so
// the first (cold JIT) can be told from the later ones. The fake client's decoding is included.
// Run: node --import tsx bench/retained-inprocess.ts [N=50000] [rounds=5]

import { EventEmitter } from 'node:events';
import { Broker } from '../src/broker/broker.js';
import type { Connection } from '../src/broker/connection.js';
import { createLogger } from '../src/broker/logger.js';
import { Message } from '../src/broker/message.js';
import { PacketDecoder } from '../src/protocol/decoder.js';
import { encodePacket } from '../src/protocol/encoder.js';

class AckingConnection extends EventEmitter {
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  received = 0;
  private readonly decoder = new PacketDecoder({ protocolVersion: 4 });
  private acks: Buffer[] = [];
  private scheduled = false;

  constructor(
    private readonly expected: number,
    private readonly done: () => void,
  ) {
    super();
  }

  write(bytes: Buffer): boolean {
    this.decoder.decode(bytes, (p) => {
      if (p.type !== 3) return;
      this.received++;
      if (p.qos === 1) this.acks.push(encodePacket({ type: 4, packetId: p.packetId!, reasonCode: 0 }, 4));
    });
    if (this.received >= this.expected) this.done();
    if (!this.scheduled && this.acks.length > 0) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const acks = Buffer.concat(this.acks);
        this.acks = [];
        this.emit('data', acks);
      });
    }
    return true;
  }

  pause(): void {}
  resume(): void {}
  end(): void {}
  destroy(): void {
    this.emit('close');
  }
}

const count = Number(process.argv[2] ?? 50_000);
const rounds = Number(process.argv[3] ?? 5);
const broker = new Broker({ logger: createLogger('silent') });
await broker.start();
const payload = Buffer.alloc(64, 120);
for (let i = 0; i < count; i++) {
  const message = new Message(`bench/ret/${i >>> 10}/${i & 1023}`, payload, 1, true, undefined, undefined, 'loader');
  broker.retained.set(message.topic, message.own());
}
for (let round = 0; round < rounds; round++) {
  let finished = (): void => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const conn = new AckingConnection(count, () => finished());
  broker.handleConnection(conn as unknown as Connection);
  conn.emit('data', encodePacket({ type: 1, protocolName: 'MQTT', protocolVersion: 4, cleanStart: true, keepAlive: 0, clientId: `sub${round}` }, 4));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  conn.emit('data', encodePacket({ type: 8, packetId: 1, subscriptions: [{ topicFilter: 'bench/ret/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }, 4));
  await done;
  const cpu = process.cpuUsage(cpu0);
  console.log(`delivery ${round + 1}: ${count} messages in ${(performance.now() - t0).toFixed(0)} ms, ${((cpu.user + cpu.system) / count).toFixed(2)} µs CPU per message`);
  conn.destroy();
}
await broker.close();
