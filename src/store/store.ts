// The storage interface of the broker (DESIGN.md, "src/store/"). The broker keeps its working
// state in memory and tells the store every change that must survive a restart; the store
// batches those changes and makes them durable. `load()` hands everything back at startup.
//
// Only persistent state is written: retained messages, and sessions that outlive their
// connection (3.1.1 clean session 0, 5.0 session expiry > 0) with their subscriptions and
// messages. Clean-session traffic never reaches the store.

import type { Properties, QoS, Subscription } from '../protocol/packets.js';

/** An application message as the broker keeps it (payload copied out of the socket chunk). */
export interface StoredMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: Properties;
  /** Epoch ms after which the message must not be delivered (5.0 message expiry). */
  expiresAt?: number;
}

export interface StoredSubscription extends Subscription {
  subscriptionIdentifier?: number;
}

export interface StoredSession {
  clientId: string;
  /** Seconds; 0xFFFFFFFF never expires. */
  expiryInterval: number;
  protocolVersion: 3 | 4 | 5;
  subscriptions: StoredSubscription[];
  /** Epoch ms when the last connection ended; undefined while connected. */
  disconnectedAt?: number;
}

/** A message owed to a persistent session: queued, or sent and not yet fully acknowledged. */
export interface StoredDelivery {
  /** Order of delivery within the session. */
  seq: number;
  message: StoredMessage;
  qos: QoS;
  retain: boolean;
  subscriptionIdentifiers?: number[];
  /** Set once sent: the packet id it went out with. */
  packetId?: number;
  /** QoS 2 only: PUBREC received, PUBREL sent. */
  released?: boolean;
  /**
   * 5.0: the shared subscription (`$share/{group}/{filter}`) the message came through. It may go
   * to another member of that group if this session's connection or the session itself ends.
   */
  shareGroup?: string;
}

/** A 5.0 will waiting out its Will Delay Interval after its connection ended. */
export interface StoredWill {
  clientId: string;
  message: StoredMessage;
  /** Epoch ms when it is to be published (unless the client comes back first). */
  publishAt: number;
}

/** The queued deliveries of one client left in the store by `load({ leaveQueued: true })`. */
export interface StoredBacklog {
  count: number;
  /** Sum of their payload lengths. */
  bytes: number;
  /** The highest seq among them. */
  lastSeq: number;
  /** How many of them came through a shared subscription (have a shareGroup). */
  shared: number;
}

export interface LoadOptions {
  /**
   * Leave queued deliveries (those without a packet id) in the store: `load()` returns only
   * their count per client in `backlog`, and `readQueued()` reads them when they are due.
   */
  leaveQueued?: boolean;
  /**
   * Makes the broker's own object of each delivery message read (load and readQueued), so
   * the store can recognise it when the delivery is put again and not write the message twice.
   */
  wrapMessage?: (message: StoredMessage) => StoredMessage;
}

export interface StoredState {
  retained: StoredMessage[];
  sessions: StoredSession[];
  /** Per client, in seq order: in-flight deliveries, and queued ones unless left in the store. */
  deliveries: Map<string, StoredDelivery[]>;
  /** Per client with queued deliveries left in the store (empty unless `leaveQueued`). */
  backlog: Map<string, StoredBacklog>;
  /** Incoming QoS 2 packet ids received and not yet released, per client. */
  incomingQos2: Map<string, number[]>;
  wills: StoredWill[];
}

export interface Store {
  /**
   * True when the store keeps queued deliveries on disk, so the broker does better to leave
   * them there and read them back in pages than to hold every queued message in memory.
   */
  readonly pagesQueues: boolean;
  load(options?: LoadOptions): Promise<StoredState>;
  /**
   * Up to `limit` queued deliveries (no packet id) of a client with seq > `afterSeq`, in seq
   * order, including changes not yet flushed. Messages are made by `wrapMessage` as in load().
   */
  readQueued(clientId: string, afterSeq: number, limit: number, wrapMessage?: (message: StoredMessage) => StoredMessage): StoredDelivery[];
  /** The share groups of a client's queued deliveries with seq > `afterSeq`, each once, changes not yet flushed included. */
  queuedShareGroups(clientId: string, afterSeq: number): string[];
  /** readQueued() for only the deliveries that came through `shareGroup`. */
  readQueuedShared(
    clientId: string,
    shareGroup: string,
    afterSeq: number,
    limit: number,
    wrapMessage?: (message: StoredMessage) => StoredMessage,
  ): StoredDelivery[];
  putRetained(message: StoredMessage): void;
  deleteRetained(topic: string): void;
  putSession(session: StoredSession): void;
  deleteSession(clientId: string): void;
  putDelivery(clientId: string, delivery: StoredDelivery): void;
  deleteDelivery(clientId: string, seq: number): void;
  putIncomingQos2(clientId: string, packetId: number): void;
  deleteIncomingQos2(clientId: string, packetId: number): void;
  putWill(will: StoredWill): void;
  deleteWill(clientId: string): void;
  /**
   * Resolves when every change made so far is durable. Returns undefined when nothing is
   * pending, so the broker can acknowledge at once without a promise per message.
   */
  flush(): Promise<void> | undefined;
  close(): Promise<void>;
}
