// A session: what the broker owes one client id, online or not — its subscriptions, the
// messages in flight to it, the messages waiting for it, and the QoS 2 packet ids it sent and
// has not released. Every delivery goes through one bounded queue with an explicit policy when
// full, so online, offline and slow consumers share one code path (DESIGN.md).
//
// With a store that pages queues (SQLite), the queue of a persistent session is a window in
// memory over its deliveries in the store: the oldest ones are in `queue`, and the newer ones
// past the window (`backlog`) are only in the store until the window has room again. So a
// session's bound can be large (100,000 messages by default) without costing memory: an
// offline session keeps no message in memory at all, an online one at most its window.

import type { QoS } from '../protocol/packets.js';
import type { StoredBacklog, StoredDelivery, StoredSession, StoredSubscription } from '../store/store.js';
import { Message, minQoS } from './message.js';
import { RetainedFeed } from './retained-feed.js';
import type { Client } from './client.js';
import type { Broker } from './broker.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import { Backpressure } from './backpressure.js';
import { SessionQueue } from './session-queue.js';
import { InflightTable } from './inflight-table.js';

export interface Delivery extends StoredDelivery {
  message: Message;
  /**
   * A retained message sent because of a new subscription: it goes out under the client's
   * retained window (Client.retainedQuota). Not stored: one read back from the store (past a
   * persistent session's queue window, or after a restart) waits for the ordinary window.
   */
  replay?: boolean;
  /** In flight from an earlier connection and not resent yet: past the Receive Maximum the client came back with (resendInflight). */
  awaitingResend?: boolean;
}

export const NEVER_EXPIRES = 0xffffffff;

/**
 * An empty Map or Set shared by every session that has not written to that collection yet: three
 * empty hash tables per session cost about half a kilobyte per idle connection. Writing to the
 * shared one throws, so a write that skipped the session's own-copy step cannot go unnoticed.
 */
class EmptyMap<K, V> extends Map<K, V> {
  override set(): this {
    throw new Error('write to the shared empty map');
  }
}
class EmptySet<T> extends Set<T> {
  override add(): this {
    throw new Error('write to the shared empty set');
  }
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const EMPTY_MAP: Map<any, any> = new EmptyMap();
const EMPTY_SET: Set<number> = new EmptySet();

/** Fewest backlog deliveries read at once from the store. */
const MIN_PAGE = 64;
/** Backlog deliveries of one share group read at once when they are handed on (handOnShared). */
const SCAN_PAGE = 1000;

export class Session {
  // Fields are laid out in the order they are declared (after broker, the constructor's): what
  // routing a PUBLISH to this session reads and writes comes first, in one or two cache lines
  // (bench/core-path.mjs --lines).
  //
  // Scratch space for routing one PUBLISH: merges overlapping subscriptions of this session
  // into one delivery without allocating (see Broker.route).
  matchStamp = 0;
  matchQos: QoS = 0;
  matchRetainAsPublished = false;
  matchSubIds: number[] | undefined;
  client: Client | undefined;
  /**
   * Queued deliveries in memory, oldest first, and the count of those past the window that are
   * in the store only (session-queue.ts). A RetainedFeed entry stands for the retained messages
   * of a new subscription (retained-feed.ts).
   */
  readonly queue = new SessionQueue();
  /** Outgoing QoS 1/2 messages sent and not yet acknowledged, by packet id, in send order. */
  readonly inflight = new InflightTable<Delivery>();
  readonly clientId: string;
  /** Seconds the session outlives its connection; 0 = ends with it, 0xFFFFFFFF = never. */
  expiryInterval: number;
  protocolVersion: 3 | 4 | 5;
  /** Shared empty collections until first written (see EmptyMap): most sessions never fill them. */
  subscriptions: Map<string, StoredSubscription> = EMPTY_MAP;
  /** Deliveries through shared subscriptions were made or restored: handOnShared has something to look at. */
  private holdsShared = false;
  /** In-flight deliveries marked awaitingResend: they go out before anything queued. */
  private awaitingResend = 0;
  /** Incoming QoS 2 packet ids whose PUBREL has not arrived: a resent PUBLISH is not routed again. */
  incomingQos2: Set<number> = EMPTY_SET;
  expiryTimer: NodeJS.Timeout | undefined;
  disconnectedAt: number | undefined;
  /** A record of this session is in the store (so ending it must delete the record). */
  stored = false;
  private nextPacketId = 1;
  private nextSeq = 1;
  /** Publishers held back while this session's consumer catches up (created when first needed). */
  backpressure: Backpressure | undefined;
  /** QoS 2 deliveries waiting for their packet id to be durable before they are written. */
  private held: Delivery[] | undefined;
  private heldScheduled = false;
  /** Made on first use: a closure per session would cost every idle session ~300 bytes. */
  private releaseHeldCallback: (() => void) | undefined;
  private dropWarned = false;

  constructor(
    private readonly broker: Broker,
    clientId: string,
    expiryInterval: number,
    protocolVersion: 3 | 4 | 5,
  ) {
    this.clientId = clientId;
    this.expiryInterval = expiryInterval;
    this.protocolVersion = protocolVersion;
  }

  /** State outlives the connection, so changes go to the store. */
  get persistent(): boolean {
    return this.expiryInterval > 0;
  }

  toStored(): StoredSession {
    return {
      clientId: this.clientId,
      expiryInterval: this.expiryInterval,
      protocolVersion: this.protocolVersion,
      subscriptions: [...this.subscriptions.values()],
      disconnectedAt: this.disconnectedAt,
    };
  }

  /** Messages queued in memory and in the store's backlog (queue.total, for callers outside). */
  get queuedCount(): number {
    return this.queue.total;
  }

  /** Restores a message owed from a previous run (in flight when it has a packet id). */
  restore(delivery: Delivery): void {
    if (delivery.seq >= this.nextSeq) this.nextSeq = delivery.seq + 1;
    if (delivery.shareGroup !== undefined) this.holdsShared = true;
    if (delivery.packetId !== undefined) {
      this.inflight.set(delivery.packetId, delivery);
      if (delivery.packetId >= this.nextPacketId) this.nextPacketId = (delivery.packetId % 65535) + 1;
    } else {
      this.queue.push(delivery);
    }
  }

  /** Restores the queued messages a previous run left in the store; read when they are due. */
  restoreBacklog(backlog: StoredBacklog): void {
    this.queue.restoreBacklog(backlog);
    if (backlog.lastSeq >= this.nextSeq) this.nextSeq = backlog.lastSeq + 1;
    if (backlog.shared > 0) this.holdsShared = true;
  }

  /**
   * `shareGroup`: the shared subscription (`$share/{group}/{filter}`) the message came through,
   * if any. `replay`: a retained message sent because of a new subscription (Delivery.replay).
   */
  deliver(message: Message, qos: QoS, retain: boolean, subscriptionIds: number[] | undefined, shareGroup?: string, replay = false): void {
    const client = this.client;
    if (client === undefined) {
      // Offline: only a session that outlives its connection keeps messages, and only QoS 1/2.
      if (qos > 0 && this.persistent) this.enqueue(message, qos, retain, subscriptionIds, shareGroup, replay);
      return;
    }
    if (this.queue.total === 0 && client.canSend(qos, this.inflight.size, replay)) {
      if (qos === 0) client.writePublish(message, 0, retain, 0, false, subscriptionIds);
      else this.sendTracked(client, this.newDelivery(message, qos, retain, subscriptionIds, shareGroup, replay));
    } else {
      this.enqueue(message, qos, retain, subscriptionIds, shareGroup, replay);
    }
  }

  /**
   * 5.0 shared subscriptions: offers `give` every QoS 1/2 message that came through one and that
   * this client has not received (queued, in memory or in the store's backlog, or QoS 1 sent
   * without a PUBACK); what `give` hands to another member of the group is no longer this
   * session's. Called when the connection is lost and when the session ends, so a member that
   * goes away strands nothing its group could still receive.
   */
  handOnShared(hasTaker: (shareGroup: string) => boolean, give: (delivery: Delivery) => boolean): void {
    // A session that never had a shared delivery is not walked at every disconnect.
    if (!this.holdsShared) return;
    for (const delivery of this.inflight.values()) {
      // A QoS 2 message already sent stays with this session: it is completed to this client
      // when it returns, or dropped with the session ([MQTT-4.8.2-4] [MQTT-4.8.2-5] (v5)).
      if (delivery.shareGroup !== undefined && delivery.qos === 1 && give(delivery)) this.forget(delivery);
    }
    if (this.queue.length > 0) {
      const kept: (Delivery | RetainedFeed)[] = [];
      for (let d = this.queue.shift(); d !== undefined; d = this.queue.shift()) {
        if (!(d instanceof RetainedFeed) && d.shareGroup !== undefined && d.qos > 0 && give(d)) {
          if (this.persistent) this.broker.store.deleteDelivery(this.clientId, d.seq);
        } else {
          kept.push(d);
        }
      }
      for (const d of kept) this.queue.push(d);
    }
    if (this.queue.backlog > 0) this.handOnSharedBacklog(hasTaker, give);
  }

  /**
   * handOnShared() for the deliveries past the window: the store names the groups they came
   * through, and only those of groups with another member to take them are read, a page at a
   * time. A lone member with a long backlog costs one query, not a read of every message.
   */
  private handOnSharedBacklog(hasTaker: (shareGroup: string) => boolean, give: (delivery: Delivery) => boolean): void {
    const store = this.broker.store;
    for (const shareGroup of store.queuedShareGroups(this.clientId, this.queue.lastSeq)) {
      if (!hasTaker(shareGroup)) continue;
      let after = this.queue.lastSeq;
      while (true) {
        const page = store.readQueuedShared(this.clientId, shareGroup, after, SCAN_PAGE, Message.fromStored);
        for (const stored of page) {
          const delivery = stored as Delivery;
          after = delivery.seq;
          if (delivery.qos === 0 || !give(delivery)) continue;
          store.deleteDelivery(this.clientId, delivery.seq);
          this.queue.takeFromBacklog(delivery.message.payload.length);
        }
        if (page.length < SCAN_PAGE) break;
      }
    }
  }

  /** Sends what waits in the queue, as far as the in-flight window and the socket allow. */
  drain(): void {
    const client = this.client;
    if (client === undefined) return;
    if (this.awaitingResend > 0) {
      // What was in flight before the reconnect goes first; nothing queued may overtake it.
      this.resendAwaiting(client);
      if (this.awaitingResend > 0) return;
    }
    let sent = false;
    const queue = this.queue;
    const refillAt = queue.backlog > 0 ? this.windowSize() >> 1 : -1;
    // A drain that refills half the in-flight window or more hands that first half to the
    // connection at once: the client reads and acknowledges it while the rest is prepared,
    // instead of the whole window going back and forth as one block (a retained feed, or a
    // queue that waited for acknowledgements). 50,000 retained messages from a fresh broker to
    // a subscriber that acknowledges each read: 212 instead of 244 ms (bench/retained-window.mjs).
    const head = queue.peek();
    let untilFlush = (head instanceof RetainedFeed || head?.replay === true ? client.retainedQuota : client.sendQuota) >> 1;
    while (true) {
      if (queue.length <= refillAt && queue.backlog > 0) this.refill();
      const next = queue.peek();
      if (next === undefined) break;
      if (next instanceof RetainedFeed) {
        const message = next.messages[next.index];
        if (message === undefined) {
          queue.shift();
          continue;
        }
        if (message.expiresAt !== undefined && message.isExpired(Date.now())) {
          next.index++;
          continue;
        }
        const qos = minQoS(message.qos, next.qos);
        if (!client.canSend(qos, this.inflight.size, true)) break;
        next.index++;
        // [MQTT-3.3.1-8] (v3.1.1) sent because of a new subscription: retain flag set.
        if (qos === 0) client.writePublish(message, 0, true, 0, false, next.subscriptionIds);
        else {
          this.sendTracked(client, this.newDelivery(message, qos, true, next.subscriptionIds, undefined));
          if (--untilFlush === 0) client.flush();
        }
        // A retained message lives on: it must not keep the bytes made for this client.
        message.dropEncodings();
        sent = true;
        continue;
      }
      // The clock is read only for messages that can expire (5.0 message expiry).
      if (next.message.expiresAt !== undefined && next.message.isExpired(Date.now())) {
        this.dropQueued();
        continue;
      }
      if (!client.canSend(next.qos, this.inflight.size, next.replay === true)) break;
      queue.shift();
      if (next.qos === 0) client.writePublish(next.message, 0, next.retain, 0, false, next.subscriptionIdentifiers);
      else {
        this.sendTracked(client, next);
        if (--untilFlush === 0) client.flush();
      }
      sent = true;
    }
    if (sent && this.backpressure !== undefined) this.backpressure.progress(this.queue.total);
  }

  /**
   * Queues the retained messages of a new subscription as one feed, behind what is already
   * queued, and starts sending. Only for a session whose queue is not kept in the store: a
   * persistent session queues them one by one, so they survive a restart like the rest.
   */
  feedRetained(feed: RetainedFeed): void {
    if (feed.remaining === 0) return;
    this.queue.push(feed);
    this.drain();
  }

  /**
   * [MQTT-4.4.0-1] After a persistent session reconnects: resend unacknowledged PUBLISH (DUP=1)
   * and PUBREL, with their packet ids. [MQTT-3.3.4-9] (v5) A client may come back with a lower
   * Receive Maximum than it had when they were sent: only that many are resent (a QoS 2 message
   * counts until its PUBCOMP, so a PUBREL does too); the rest follow as acknowledgements come,
   * before anything queued (drain).
   */
  resendInflight(client: Client): void {
    let outstanding = 0;
    this.awaitingResend = 0;
    for (const delivery of this.inflight.values()) {
      // Cleared only where set: deliveries that never had the flag keep their shape.
      if (delivery.awaitingResend === true) delivery.awaitingResend = false;
      if (delivery.released) {
        client.writeAck(6, delivery.packetId!, 0);
        outstanding++;
      } else if (outstanding < client.receiveMaximum) {
        if (this.resend(client, delivery)) outstanding++;
      } else {
        delivery.awaitingResend = true;
        this.awaitingResend++;
      }
    }
  }

  /** Resends deliveries awaiting it (resendInflight) as far as the client's Receive Maximum allows. */
  private resendAwaiting(client: Client): void {
    for (const delivery of this.inflight.values()) {
      if (this.awaitingResend === 0 || this.inflight.size - this.awaitingResend >= client.receiveMaximum) return;
      if (delivery.awaitingResend !== true) continue;
      this.noLongerAwaiting(delivery);
      this.resend(client, delivery);
    }
  }

  /**
   * Writes an unacknowledged PUBLISH again (DUP=1). False when the client came back with a
   * Maximum Packet Size too small for it: it is skipped as if acknowledged ([MQTT-3.1.2-25] (v5)).
   */
  private resend(client: Client, delivery: Delivery): boolean {
    if (client.writePublish(delivery.message, delivery.qos, delivery.retain, delivery.packetId!, true, delivery.subscriptionIdentifiers)) return true;
    this.forget(delivery);
    return false;
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the delivery is complete. */
  complete(packetId: number, expectedQos: QoS): boolean {
    const delivery = this.inflight.get(packetId);
    if (delivery === undefined || delivery.qos !== expectedQos) return false;
    this.forget(delivery);
    this.broker.drainSoon(this);
    return true;
  }

  /** PUBREC: the receiver has the QoS 2 message; from now on only PUBREL is resent. */
  release(packetId: number): boolean {
    const delivery = this.inflight.get(packetId);
    if (delivery === undefined || delivery.qos !== 2) return false;
    // The client had it from before it reconnected: it is not sent again.
    this.noLongerAwaiting(delivery);
    if (!delivery.released) {
      delivery.released = true;
      if (this.persistent) this.broker.store.putDelivery(this.clientId, delivery);
    }
    return true;
  }

  /** 5.0 PUBREC with a failure reason: the receiver refused the message; nothing more is sent for it. */
  abandon(packetId: number): void {
    const delivery = this.inflight.get(packetId);
    if (delivery === undefined) return;
    this.forget(delivery);
    this.broker.drainSoon(this);
  }

  /** Publishers this session held back may go on (it went offline or ended). */
  releasePublishers(): void {
    this.backpressure?.releaseAll();
  }

  /** A publisher fed this session's queue past the high-water mark. */
  throttle(publisher: Client): void {
    this.backpressure ??= new Backpressure(this.broker.backpressureHighWater, Math.max(1, this.broker.backpressureHighWater >> 1));
    this.backpressure.congested(publisher, this.client);
  }

  /** Forgets everything: the session ended. */
  discard(): void {
    this.releasePublishers();
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.inflight.clear();
    this.queue.clear();
    this.awaitingResend = 0;
    this.holdsShared = false;
    this.incomingQos2 = EMPTY_SET;
    this.subscriptions = EMPTY_MAP;
  }

  private newDelivery(message: Message, qos: QoS, retain: boolean, subscriptionIds: number[] | undefined, shareGroup: string | undefined, replay = false): Delivery {
    const delivery: Delivery = { seq: this.nextSeq++, message, qos, retain, subscriptionIdentifiers: subscriptionIds };
    if (shareGroup !== undefined) {
      delivery.shareGroup = shareGroup;
      this.holdsShared = true;
    }
    if (replay) delivery.replay = true;
    return delivery;
  }

  private sendTracked(client: Client, delivery: Delivery): void {
    const packetId = this.allocatePacketId();
    delivery.packetId = packetId;
    this.inflight.set(packetId, delivery);
    if (this.persistent) {
      delivery.message.own();
      this.broker.store.putDelivery(this.clientId, delivery);
      if (delivery.qos === 2 && this.broker.store.flush() !== undefined) {
        // Exactly once across a crash: a QoS 2 PUBLISH leaves only once its packet id is
        // durable, so a restarted broker resends it with the same id, never under a new one.
        (this.held ??= []).push(delivery);
        if (!this.heldScheduled) {
          this.heldScheduled = true;
          this.broker.whenDurable((this.releaseHeldCallback ??= () => this.releaseHeld()));
        }
        return;
      }
    }
    this.writeTracked(client, delivery);
  }

  private releaseHeld(): void {
    this.heldScheduled = false;
    const held = this.held ?? [];
    this.held = undefined;
    const client = this.client;
    if (client === undefined) return;
    for (const delivery of held) {
      if (this.inflight.get(delivery.packetId!) === delivery) this.writeTracked(client, delivery);
    }
  }

  private writeTracked(client: Client, delivery: Delivery): void {
    if (!client.writePublish(delivery.message, delivery.qos, delivery.retain, delivery.packetId!, false, delivery.subscriptionIdentifiers)) {
      // Too large for this client ([MQTT-3.1.2-25] (v5)): it is skipped, as if acknowledged.
      this.forget(delivery);
    }
  }

  /** An in-flight delivery is over (acknowledged, refused or skipped): nothing more is owed. */
  private forget(delivery: Delivery): void {
    this.noLongerAwaiting(delivery);
    this.inflight.delete(delivery.packetId!);
    if (this.persistent) this.broker.store.deleteDelivery(this.clientId, delivery.seq);
  }

  private noLongerAwaiting(delivery: Delivery): void {
    if (delivery.awaitingResend !== true) return;
    delivery.awaitingResend = false;
    this.awaitingResend--;
  }

  private enqueue(message: Message, qos: QoS, retain: boolean, subscriptionIds: number[] | undefined, shareGroup: string | undefined, replay: boolean): void {
    const caps = this.broker.caps;
    const size = message.payload.length;
    if (this.queue.total >= caps.maxQueuedMessages || this.queue.bytes + size > caps.maxQueuedBytes) {
      if (caps.queueFullPolicy === 'disconnect' && this.client !== undefined) {
        // A consumer that cannot keep up is cut off (5.0: DISCONNECT 0x97 quota exceeded).
        this.countDrop(message);
        this.client.disconnect(ReasonCode.QuotaExceeded, 'session queue full');
        return;
      }
      const oldest = caps.queueFullPolicy === 'drop-oldest' ? this.dropQueued() : undefined;
      if (oldest === undefined) {
        this.countDrop(message);
        return;
      }
      this.countDrop(oldest);
    }
    if (this.queue.backlog > 0 || this.queue.length >= this.windowSize()) {
      // Past the window (only a persistent session's window ends): in the store only, even at
      // QoS 0, so the queue keeps its order when these are read back.
      this.queue.addToBacklog(size);
      this.broker.store.putDelivery(this.clientId, this.newDelivery(message.own(), qos, retain, subscriptionIds, shareGroup));
    } else {
      const delivery = this.newDelivery(message.own(), qos, retain, subscriptionIds, shareGroup, replay);
      this.queue.push(delivery);
      if (this.persistent && qos > 0) this.broker.store.putDelivery(this.clientId, delivery);
    }
    if (this.client !== undefined && this.queue.total >= this.broker.backpressureHighWater) this.broker.noteCongested(this);
  }

  /**
   * Queued deliveries kept in memory: all of them unless the session is persistent and the
   * store pages queues; then the window while online, none while offline.
   */
  private windowSize(): number {
    if (!this.persistent || !this.broker.store.pagesQueues) return Infinity;
    return this.client === undefined ? 0 : this.broker.caps.queueWindow;
  }

  /** Moves every delivery of the backlog from the store into memory (the session stops being persistent). */
  readBacklog(): void {
    while (this.queue.backlog > 0) this.refill();
  }

  /** Moves the oldest deliveries of the backlog from the store into the window. */
  private refill(): void {
    const queue = this.queue;
    const window = this.windowSize();
    // At least a small page, so an offline session dropping its oldest does not read one row a time.
    const limit = Math.min(queue.backlog, Math.max(MIN_PAGE, (window === Infinity ? queue.backlog : window) - queue.length));
    // The store wraps each message of the page once: deliveries of one message share it.
    const page = this.broker.store.readQueued(this.clientId, queue.lastSeq, limit, Message.fromStored);
    for (const stored of page) queue.pushFromBacklog(stored as Delivery);
    if (page.length === 0) {
      // The store has none of them (it failed, and the broker is stopping on that).
      this.broker.logger.error('queued messages missing from the store', { clientId: this.clientId, backlog: queue.backlog });
      queue.dropBacklog();
    }
  }

  /** Removes the oldest queued message for good (expired, or pushed out by a full queue). */
  private dropQueued(): Message | undefined {
    if (this.queue.length === 0 && this.queue.backlog > 0) this.refill();
    const head = this.queue.peek();
    if (head instanceof RetainedFeed) {
      const message = head.messages[head.index++];
      if (head.remaining <= 0) this.queue.shift();
      return message ?? this.dropQueued();
    }
    const delivery = this.queue.shift() as Delivery | undefined;
    if (delivery !== undefined && this.persistent && delivery.qos > 0) this.broker.store.deleteDelivery(this.clientId, delivery.seq);
    return delivery?.message;
  }

  private countDrop(message: Message): void {
    this.broker.stats.messagesDropped++;
    if (!this.dropWarned) {
      // One warning per session until its queue has room again keeps a flood out of the log.
      this.dropWarned = true;
      this.broker.logger.warn('session queue full, dropping messages', { clientId: this.clientId, topic: message.topic, queued: this.queue.total });
    }
    if (this.queue.total < this.broker.caps.maxQueuedMessages / 2) this.dropWarned = false;
  }

  /** Records a subscription (replacing one with the same filter). */
  setSubscription(subscription: StoredSubscription): void {
    if (this.subscriptions === EMPTY_MAP) this.subscriptions = new Map();
    this.subscriptions.set(subscription.topicFilter, subscription);
  }

  /** Records an incoming QoS 2 packet id awaiting its PUBREL. */
  addIncomingQos2(packetId: number): void {
    if (this.incomingQos2 === EMPTY_SET) this.incomingQos2 = new Set();
    this.incomingQos2.add(packetId);
  }

  private allocatePacketId(): number {
    // Skips ids still in flight (and those the in-flight table has no free slot for); the
    // window is below 65535, so there is always one.
    const id = this.inflight.firstFree(this.nextPacketId);
    this.nextPacketId = (id % 65535) + 1;
    return id;
  }
}
