// The changes made during one turn of the event loop, waiting to be committed together.
// Later changes to the same key replace earlier ones, so a topic retained ten times in a turn
// is written once, and a delivery sent and acknowledged in one turn is never inserted.

import type { StoredMessage } from './store.js';

/** A delivery as it was when put: the broker may change its object before the commit. */
export interface DeliveryRow {
  message: StoredMessage;
  qos: number;
  retain: number;
  subscriptionIds: string | null;
  packetId: number | null;
  released: number | null;
  shareGroup: string | null;
}

/** client_id, expiry_interval, protocol_version, subscriptions JSON, disconnected_at. */
export type SessionRow = [string, number, number, string, number | null];

/** client_id, topic, payload, qos, retain, properties JSON, expires_at, publish_at. */
export type WillRow = [string, string, Buffer, number, number, string | null, number | null, number];

export class WriteBatch {
  /** Sessions deleted in this turn, with their deliveries and incoming ids; applied first. */
  readonly endedSessions = new Set<string>();
  readonly sessions = new Map<string, SessionRow>();
  /** null: delete. */
  readonly retained = new Map<string, StoredMessage | null>();
  /** By client, then seq; null: delete. */
  readonly deliveries = new Map<string, Map<number, DeliveryRow | null>>();
  /** By client, then packet id; true: put, false: delete. */
  readonly incomingQos2 = new Map<string, Map<number, boolean>>();
  /** By client; null: delete. Sessions ending leave wills alone: a will outlives its session. */
  readonly wills = new Map<string, WillRow | null>();

  /** Created only when someone waits, so a turn nobody waits on costs no promise. */
  done: Promise<void> | undefined;
  resolve: (() => void) | undefined;
  reject: ((error: unknown) => void) | undefined;

  wait(): Promise<void> {
    return (this.done ??= new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    }));
  }

  endSession(clientId: string): void {
    this.endedSessions.add(clientId);
    this.sessions.delete(clientId);
    // Whatever this turn wrote for the client goes with it; later writes start afresh.
    this.deliveries.delete(clientId);
    this.incomingQos2.delete(clientId);
  }

  setDelivery(clientId: string, seq: number, row: DeliveryRow | null): void {
    let bySeq = this.deliveries.get(clientId);
    if (bySeq === undefined) this.deliveries.set(clientId, (bySeq = new Map()));
    bySeq.set(seq, row);
  }

  setIncomingQos2(clientId: string, packetId: number, present: boolean): void {
    let ids = this.incomingQos2.get(clientId);
    if (ids === undefined) this.incomingQos2.set(clientId, (ids = new Map()));
    ids.set(packetId, present);
  }
}
