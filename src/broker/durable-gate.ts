// Holds acknowledgements until what they promise is durable (DESIGN.md, acknowledgement
// rule). The store commits writes in batches; each batch's acks wait on that batch's promise,
// and acks are released in the order they were asked for. With nothing pending (the memory
// store) an ack goes out at once, with no promise per message.

import type { AckPacket } from '../protocol/packets.js';
import type { Store } from '../store/store.js';
import type { Client } from './client.js';

type Waiting = { client: Client; type: AckPacket['type']; packetId: number; reasonCode: number } | (() => void);

interface Batch {
  done: Promise<void>;
  waiting: Waiting[];
}

export class DurableGate {
  private readonly batches: Batch[] = [];

  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown) => void,
  ) {}

  ack(client: Client, type: AckPacket['type'], packetId: number, reasonCode: number): void {
    // Nothing waiting and nothing pending (the memory store, or SQLite between batches): the
    // ack goes out now, without the record a waiting one needs (one per QoS 1/2 PUBLISH).
    const pending = this.store.flush();
    if (pending === undefined && this.batches.length === 0) client.sendAck(type, packetId, reasonCode);
    else this.enqueue({ client, type, packetId, reasonCode }, pending);
  }

  run(action: () => void): void {
    this.enqueue(action, this.store.flush());
  }

  private enqueue(item: Waiting, pending: Promise<void> | undefined): void {
    const n = this.batches.length;
    // Not batches[-1] when empty: that is a lookup of the property "-1", through V8's slow path.
    const last = n > 0 ? this.batches[n - 1] : undefined;
    if (pending === undefined) {
      if (last === undefined) release(item);
      else last.waiting.push(item);
      return;
    }
    if (last !== undefined && last.done === pending) {
      last.waiting.push(item);
      return;
    }
    const batch: Batch = { done: pending, waiting: [item] };
    this.batches.push(batch);
    pending.then(
      () => this.settle(batch),
      (error: unknown) => this.onError(error),
    );
  }

  private settle(batch: Batch): void {
    // Batches commit in order; release every batch up to and including this one.
    while (this.batches.length > 0) {
      const head = this.batches.shift()!;
      for (const item of head.waiting) release(item);
      if (head === batch) break;
    }
  }
}

function release(item: Waiting): void {
  if (typeof item === 'function') item();
  else item.client.sendAck(item.type, item.packetId, item.reasonCode);
}
