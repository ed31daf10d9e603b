// A store that keeps everything in process memory: nothing survives the process, but state
// does survive a broker being closed and a new one opened on the same store object, which is
// how the tests check what the broker writes.

import type { LoadOptions, Store, StoredBacklog, StoredDelivery, StoredMessage, StoredSession, StoredState, StoredWill } from './store.js';

export class MemoryStore implements Store {
  /** Queues are in memory either way: the broker keeps them whole rather than paging them. */
  readonly pagesQueues = false;
  private readonly retained = new Map<string, StoredMessage>();
  private readonly sessions = new Map<string, StoredSession>();
  private readonly deliveries = new Map<string, Map<number, StoredDelivery>>();
  private readonly incoming = new Map<string, Set<number>>();
  private readonly wills = new Map<string, StoredWill>();

  async load(options: LoadOptions = {}): Promise<StoredState> {
    const wrap = once(options.wrapMessage);
    const deliveries = new Map<string, StoredDelivery[]>();
    const backlog = new Map<string, StoredBacklog>();
    for (const [clientId, bySeq] of this.deliveries) {
      const list: StoredDelivery[] = [];
      let left: StoredBacklog | undefined;
      for (const d of sortedBySeq(bySeq)) {
        if (options.leaveQueued === true && d.packetId === undefined) {
          left ??= { count: 0, bytes: 0, lastSeq: 0, shared: 0 };
          left.count++;
          left.bytes += d.message.payload.length;
          left.lastSeq = d.seq;
          if (d.shareGroup !== undefined) left.shared++;
        } else {
          list.push(wrap === undefined ? d : { ...d, message: wrap(d.message) });
        }
      }
      if (list.length > 0) deliveries.set(clientId, list);
      if (left !== undefined) backlog.set(clientId, left);
    }
    const incomingQos2 = new Map<string, number[]>();
    for (const [clientId, ids] of this.incoming) incomingQos2.set(clientId, [...ids]);
    return {
      retained: [...this.retained.values()],
      sessions: [...this.sessions.values()].map((s) => ({ ...s, subscriptions: [...s.subscriptions] })),
      deliveries,
      backlog,
      incomingQos2,
      wills: [...this.wills.values()].map((w) => ({ ...w, message: { ...w.message } })),
    };
  }

  putRetained(message: StoredMessage): void {
    this.retained.set(message.topic, message);
  }

  deleteRetained(topic: string): void {
    this.retained.delete(topic);
  }

  putSession(session: StoredSession): void {
    this.sessions.set(session.clientId, { ...session, subscriptions: [...session.subscriptions] });
  }

  /** The will stays: it outlives its session. */
  deleteSession(clientId: string): void {
    this.sessions.delete(clientId);
    this.deliveries.delete(clientId);
    this.incoming.delete(clientId);
  }

  putDelivery(clientId: string, delivery: StoredDelivery): void {
    let bySeq = this.deliveries.get(clientId);
    if (!bySeq) this.deliveries.set(clientId, (bySeq = new Map()));
    bySeq.set(delivery.seq, { ...delivery });
  }

  readQueued(clientId: string, afterSeq: number, limit: number, wrapMessage?: (message: StoredMessage) => StoredMessage): StoredDelivery[] {
    return this.queuedPage(clientId, undefined, afterSeq, limit, wrapMessage);
  }

  queuedShareGroups(clientId: string, afterSeq: number): string[] {
    const groups = new Set<string>();
    for (const d of this.deliveries.get(clientId)?.values() ?? []) {
      if (d.seq > afterSeq && d.packetId === undefined && d.shareGroup !== undefined) groups.add(d.shareGroup);
    }
    return [...groups];
  }

  readQueuedShared(clientId: string, shareGroup: string, afterSeq: number, limit: number, wrapMessage?: (message: StoredMessage) => StoredMessage): StoredDelivery[] {
    return this.queuedPage(clientId, shareGroup, afterSeq, limit, wrapMessage);
  }

  private queuedPage(
    clientId: string,
    shareGroup: string | undefined,
    afterSeq: number,
    limit: number,
    wrapMessage: ((message: StoredMessage) => StoredMessage) | undefined,
  ): StoredDelivery[] {
    const wrap = once(wrapMessage);
    const bySeq = this.deliveries.get(clientId);
    if (bySeq === undefined) return [];
    const page: StoredDelivery[] = [];
    for (const d of sortedBySeq(bySeq)) {
      if (page.length >= limit) break;
      if (d.seq <= afterSeq || d.packetId !== undefined) continue;
      if (shareGroup !== undefined && d.shareGroup !== shareGroup) continue;
      page.push(wrap === undefined ? { ...d } : { ...d, message: wrap(d.message) });
    }
    return page;
  }

  deleteDelivery(clientId: string, seq: number): void {
    const bySeq = this.deliveries.get(clientId);
    if (!bySeq) return;
    bySeq.delete(seq);
    if (bySeq.size === 0) this.deliveries.delete(clientId);
  }

  putIncomingQos2(clientId: string, packetId: number): void {
    let ids = this.incoming.get(clientId);
    if (!ids) this.incoming.set(clientId, (ids = new Set()));
    ids.add(packetId);
  }

  deleteIncomingQos2(clientId: string, packetId: number): void {
    const ids = this.incoming.get(clientId);
    if (!ids) return;
    ids.delete(packetId);
    if (ids.size === 0) this.incoming.delete(clientId);
  }

  putWill(will: StoredWill): void {
    this.wills.set(will.clientId, { ...will, message: { ...will.message } });
  }

  deleteWill(clientId: string): void {
    this.wills.delete(clientId);
  }

  flush(): undefined {
    return undefined;
  }

  async close(): Promise<void> {}
}

function sortedBySeq(bySeq: Map<number, StoredDelivery>): StoredDelivery[] {
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Wraps each message object once: deliveries that shared a message share its wrapper. */
function once(wrap: ((message: StoredMessage) => StoredMessage) | undefined): ((message: StoredMessage) => StoredMessage) | undefined {
  if (wrap === undefined) return undefined;
  const wrapped = new Map<StoredMessage, StoredMessage>();
  return (message) => {
    let result = wrapped.get(message);
    if (result === undefined) wrapped.set(message, (result = wrap(message)));
    return result;
  };
}
