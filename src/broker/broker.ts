// The broker core: the registry of clients and sessions, routing of messages through the
// subscription tree, retained messages, wills and session expiry. It never touches a socket
// (transports hand it a Connection) or a file (it persists through the Store).

import type { AckPacket } from '../protocol/packets.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import { SubscriptionTree } from '../topics/subscription-tree.js';
import { TopicIndex } from '../topics/topic-index.js';
import { parseSharedFilter } from '../topics/validate.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Store, StoredSubscription } from '../store/store.js';
import { Client, type PendingWill } from './client.js';
import type { Connection } from './connection.js';
import { DurableGate } from './durable-gate.js';
import type { BrokerHooks } from './hooks.js';
import type { Authenticator } from '../auth/authenticator.js';
import { createLogger, type Logger } from './logger.js';
import { RetainedFeed } from './retained-feed.js';
import { Message, minQoS } from './message.js';
import { resolveCapabilities, type BrokerOptions, type Capabilities } from './options.js';
import { NEVER_EXPIRES, Session, type Delivery } from './session.js';
import { SharedGroup } from './shared-group.js';
import { BrokerStats } from './stats.js';
import { nowTick, SWEEP_MS } from './deadlines.js';

/** A subscription of one session, as the subscription tree holds it. */
export interface SubscriptionEntry {
  session: Session;
  subscription: StoredSubscription;
}

export class Broker {
  // Fields are laid out in the order they are declared: those every PUBLISH reads or writes
  // come first, so that routing one touches two or three cache lines of this object, not five
  // (at a low rate each message finds them out of the cache: bench/core-path.mjs --lines).
  private routing = false;
  /** True between startOfInput() and endOfInput(): writes and drains wait for the chunk's end. */
  private handlingInput = false;
  // Routing scratch: the sessions matched by the PUBLISH being routed (see route()).
  private routeStamp = 0;
  private routeSender: string | undefined;
  private readonly routeHits: Session[] = [];
  private readonly subscriptionTree = new SubscriptionTree<SubscriptionEntry>();
  private readonly sharedTree = new SubscriptionTree<SharedGroup>();
  readonly hooks: BrokerHooks;
  readonly stats = new BrokerStats();
  private readonly deferred: Message[] = [];
  /** Online sessions whose queue passed the high-water mark while routing the current message. */
  private readonly congested: Session[] = [];
  private readonly uncorkList: Client[] = [];
  private uncorkScheduled = false;
  /** Sessions whose in-flight window opened while the current input chunk was handled. */
  private readonly drainList: Session[] = [];
  readonly caps: Capabilities;
  private readonly gate: DurableGate;
  private readonly routeGroups: SharedGroup[] = [];

  readonly store: Store;
  readonly logger: Logger;
  readonly sessions = new Map<string, Session>();
  readonly clients = new Set<Client>();
  readonly retained = new TopicIndex<Message>();
  readonly authenticators: Map<string, Authenticator>;
  private readonly delayedWills = new Map<string, { will: PendingWill; timer: NodeJS.Timeout; publishAt: number }>();
  /** The sweep for keep-alive and connect deadlines (deadlines.ts), running while clients may exist. */
  private deadlineSweep: NodeJS.Timeout | undefined;
  private clientIdCounter = 0;
  private closed = false;
  /** Queue length of an online session above which its publishers are held back (backpressure.ts). */
  readonly backpressureHighWater: number;

  constructor(options: BrokerOptions = {}) {
    this.caps = resolveCapabilities(options);
    this.store = options.store ?? new MemoryStore();
    this.logger = options.logger ?? createLogger('warn');
    this.hooks = options.hooks ?? {};
    this.backpressureHighWater = Math.max(1, Math.min(1000, this.caps.maxQueuedMessages >> 2));
    this.authenticators = new Map((options.authenticators ?? []).map((a) => [a.method, a]));
    this.gate = new DurableGate(this.store, (error) => this.onStoreError(error));
  }

  /** Restores retained messages and persistent sessions from the store. */
  async start(): Promise<void> {
    // Queued messages stay in a store that pages them: sessions read them when they are due.
    // The store wraps each stored message once, so a message queued for many sessions is
    // shared again, as it was stored.
    const state = await this.store.load({ leaveQueued: this.store.pagesQueues, wrapMessage: Message.fromStored });
    const now = Date.now();
    for (const stored of state.retained) {
      const message = Message.fromStored(stored);
      if (!message.isExpired(now)) this.retained.set(message.topic, message);
    }
    for (const stored of state.sessions) {
      const session = new Session(this, stored.clientId, stored.expiryInterval, stored.protocolVersion);
      session.stored = true;
      session.disconnectedAt = stored.disconnectedAt ?? now;
      this.sessions.set(session.clientId, session);
      for (const subscription of stored.subscriptions) this.subscribe(session, subscription);
      for (const delivery of state.deliveries.get(session.clientId) ?? []) session.restore(delivery as Delivery);
      const backlog = state.backlog.get(session.clientId);
      if (backlog !== undefined) session.restoreBacklog(backlog);
      for (const packetId of state.incomingQos2.get(session.clientId) ?? []) session.addIncomingQos2(packetId);
      // A session that expired while the broker was down ends from a timer, once every session
      // is back: its shared messages can go to the other members of their groups.
      this.scheduleExpiry(session, now);
    }
    for (const stored of state.wills) {
      const will: PendingWill = { message: Message.fromStored(stored.message), delay: 0 };
      this.delayWill(stored.clientId, will, stored.publishAt, now);
    }
    this.logger.info('state restored', { retained: this.retained.size, sessions: this.sessions.size, wills: state.wills.length });
  }

  /**
   * 5.0 shared subscriptions: what a member has not received goes to another member of the
   * group it came through, when its connection is lost or its session ends. A group gone
   * meanwhile (all unsubscribed) leaves the message with this session.
   */
  private handOnShared(session: Session): void {
    session.handOnShared(
      (shareGroup) => this.sharedGroup(shareGroup)?.hasTakerBesides(session) ?? false,
      (delivery) => this.sharedGroup(delivery.shareGroup!)?.deliver(delivery.message, session) ?? false,
    );
  }

  /** The group of a shared subscription's own filter (`$share/{group}/{filter}`), if it has members. */
  private sharedGroup(shareGroup: string): SharedGroup | undefined {
    const shared = parseSharedFilter(shareGroup);
    return shared ? this.sharedTree.get(shared.filter, shared.group) : undefined;
  }

  /** Takes a new network connection; the client's CONNECT decides the rest. */
  handleConnection(conn: Connection): Client {
    const client = new Client(this, conn);
    if (this.closed) {
      conn.destroy();
      return client;
    }
    this.clients.add(client);
    this.stats.connectionsAccepted++;
    this.deadlineSweep ??= setInterval(this.sweepDeadlines, SWEEP_MS).unref();
    return client;
  }

  /** Ends the clients whose connect timeout or keep alive has run out. */
  private readonly sweepDeadlines = (): void => {
    const now = nowTick();
    for (const client of this.clients) {
      const deadline = client.deadline;
      if (deadline !== 0 && deadline <= now) client.onDeadline();
    }
  };

  assignClientId(): string {
    return `${this.caps.assignedClientIdPrefix}${process.pid.toString(36)}-${Date.now().toString(36)}-${(this.clientIdCounter++).toString(36)}`;
  }

  /**
   * Binds a connecting client to its session: takes the session over from an older connection
   * [MQTT-3.1.4-2], discards it on clean start, or creates a new one. Returns whether a session
   * was resumed (CONNACK session present [MQTT-3.2.2-2] [MQTT-3.2.2-3] (v3.1.1)).
   */
  openSession(client: Client, cleanStart: boolean, expiryInterval: number): { session: Session; sessionPresent: boolean } {
    const clientId = client.clientId;
    let session = this.sessions.get(clientId);
    const previous = session?.client;
    if (previous !== undefined && previous !== client) {
      this.logger.debug('session taken over', { clientId });
      previous.disconnect(ReasonCode.SessionTakenOver, 'session taken over');
      session = this.sessions.get(clientId);
    }
    if (session !== undefined && cleanStart) {
      this.endSession(session);
      session = undefined;
    }
    const pendingWill = this.delayedWills.get(clientId);
    if (pendingWill !== undefined) {
      // 5.0: reconnecting within the will delay cancels the will; a clean start ended the
      // session, which publishes it now.
      this.dropDelayedWill(clientId);
      if (cleanStart) this.publishWill(pendingWill.will);
    }
    const sessionPresent = session !== undefined;
    if (session === undefined) {
      session = new Session(this, clientId, expiryInterval, client.protocolVersion as 3 | 4 | 5);
      this.sessions.set(clientId, session);
    } else {
      if (session.expiryTimer !== undefined) clearTimeout(session.expiryTimer);
      session.expiryTimer = undefined;
      session.expiryInterval = expiryInterval;
      session.protocolVersion = client.protocolVersion as 3 | 4 | 5;
    }
    session.client = client;
    session.disconnectedAt = undefined;
    client.session = session;
    if (session.persistent) {
      this.persistSession(session);
    } else if (session.stored) {
      // 5.0: resumed with a Session Expiry Interval of 0, the session now ends with this
      // connection. Its queue past the in-memory window is only in the store, which is about to
      // forget the session: read it all in first, or it would be lost [MQTT-3.1.2-5] (v5).
      session.readBacklog();
      this.unpersistSession(session);
    }
    return { session, sessionPresent };
  }

  /** A connected client's connection ended (by DISCONNECT, error, takeover or network). */
  clientGone(client: Client, publishWill: boolean): void {
    this.clients.delete(client);
    const session = client.session;
    const will = client.will;
    client.will = undefined;
    if (session !== undefined && session.client === client) {
      session.client = undefined;
      session.releasePublishers();
      const now = Date.now();
      session.disconnectedAt = now;
      if (session.persistent) this.persistSession(session);
      if (publishWill && will !== undefined && will.delay > 0 && session.expiryInterval > 0) {
        // 5.0 will delay: published after the delay or when the session ends, whichever is first.
        const publishAt = now + Math.min(will.delay, session.expiryInterval) * 1000;
        this.delayWill(client.clientId, will, publishAt, now);
        this.store.putWill({ clientId: client.clientId, message: will.message, publishAt });
      } else if (publishWill && will !== undefined) {
        this.publishWill(will);
      }
      this.handOnShared(session);
      this.scheduleExpiry(session, now);
    } else if (publishWill && will !== undefined) {
      this.publishWill(will);
    }
  }

  /** 5.0 DISCONNECT may change the session expiry interval. */
  setSessionExpiry(session: Session, expiryInterval: number): void {
    session.expiryInterval = expiryInterval;
    if (session.persistent) this.persistSession(session);
  }

  /** Writes the session record (subscriptions, expiry); only sessions that outlive their connection. */
  persistSession(session: Session): void {
    session.stored = true;
    this.store.putSession(session.toStored());
  }

  private unpersistSession(session: Session): void {
    session.stored = false;
    this.store.deleteSession(session.clientId);
  }

  /** Adds or replaces a subscription; true when one existed for the filter. */
  subscribe(session: Session, subscription: StoredSubscription): boolean {
    const existed = session.subscriptions.has(subscription.topicFilter);
    session.setSubscription(subscription);
    const shared = parseSharedFilter(subscription.topicFilter);
    if (shared) {
      const key = shared.group;
      let group = this.sharedTree.get(shared.filter, key);
      if (group === undefined) {
        group = new SharedGroup(shared.group, shared.filter);
        this.sharedTree.add(shared.filter, key, group);
      }
      group.add({ session, subscription });
    } else {
      this.subscriptionTree.add(subscription.topicFilter, session.clientId, { session, subscription });
    }
    return existed;
  }

  unsubscribe(session: Session, topicFilter: string): boolean {
    if (!session.subscriptions.delete(topicFilter)) return false;
    const shared = parseSharedFilter(topicFilter);
    if (shared) {
      const group = this.sharedTree.get(shared.filter, shared.group);
      if (group !== undefined && group.remove(session) && group.size === 0) this.sharedTree.remove(shared.filter, shared.group);
    } else {
      this.subscriptionTree.remove(topicFilter, session.clientId);
    }
    return true;
  }

  /** Routes an application message: retained store, then every matching subscription. Returns how many sessions it went to. */
  publish(message: Message, sender?: Client): number {
    if (this.routing) {
      // A will published while a message is being routed (a delivery cut a slow client off):
      // route it right after, so the routing scratch space is not reused under our feet.
      this.deferred.push(message);
      return 0;
    }
    this.stats.messagesReceived++;
    if (this.hooks.published !== undefined) this.hooks.published(message, sender?.info);
    if (message.retain) this.storeRetained(message);
    this.routing = true;
    let matched: number;
    try {
      matched = this.route(message);
    } finally {
      this.routing = false;
    }
    if (this.congested.length > 0) {
      if (sender !== undefined) for (const session of this.congested) session.throttle(sender);
      this.congested.length = 0;
    }
    while (this.deferred.length > 0) this.publish(this.deferred.shift()!);
    return matched;
  }

  /** Sends a subscription the retained messages its filter matches ([MQTT-3.3.1-6] (v3.1.1): retain flag set). */
  deliverRetained(session: Session, subscription: StoredSubscription): void {
    const now = Date.now();
    const ids = subscription.subscriptionIdentifier !== undefined ? [subscription.subscriptionIdentifier] : undefined;
    if (!session.persistent) {
      // Sent as the window allows, from one list of the matches (retained-feed.ts).
      const matches: Message[] = [];
      this.retained.match(subscription.topicFilter, (_topic, message) => {
        if (!message.isExpired(now)) matches.push(message);
      });
      session.feedRetained(new RetainedFeed(matches, subscription.qos, ids));
      return;
    }
    this.retained.match(subscription.topicFilter, (_topic, message) => {
      if (message.isExpired(now)) return;
      session.deliver(message, minQoS(message.qos, subscription.qos), true, ids, undefined, true);
      message.dropEncodings();
    });
  }

  /** Called by a session whose queue passed the high-water mark during routing. */
  noteCongested(session: Session): void {
    if (this.routing && !this.congested.includes(session)) this.congested.push(session);
  }

  acknowledgeWhenDurable(client: Client, type: AckPacket['type'], packetId: number, reasonCode: number): void {
    this.gate.ack(client, type, packetId, reasonCode);
  }

  whenDurable(action: () => void): void {
    this.gate.run(action);
  }

  /** Writes of one event-loop turn go out together: one uncork per client per turn. */
  scheduleUncork(client: Client): void {
    this.uncorkList.push(client);
    // Writes made while a chunk of input is handled leave when it is done (Client.onData): no
    // check-phase callback, which would cost an extra turn of the event loop per message at low
    // rates. Writes from timers, store callbacks and drains are flushed in the check phase.
    if (!this.uncorkScheduled && !this.handlingInput) {
      this.uncorkScheduled = true;
      setImmediate(this.uncorkAll);
    }
  }

  /** Stops: 5.0 clients are told the server is shutting down, every connection is closed, state is flushed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const client of [...this.clients]) {
      client.disconnect(ReasonCode.ServerShuttingDown, 'server shutting down');
    }
    // Delayed wills stay in the store and fire after the next start when due; a shutdown is
    // not the clients' failure, so it does not hurry them.
    if (this.deadlineSweep !== undefined) clearInterval(this.deadlineSweep);
    this.deadlineSweep = undefined;
    for (const { timer } of this.delayedWills.values()) clearTimeout(timer);
    this.delayedWills.clear();
    for (const session of this.sessions.values()) {
      if (session.expiryTimer !== undefined) clearTimeout(session.expiryTimer);
    }
    this.uncorkAll();
    await this.store.flush();
    await this.store.close();
  }

  private route(message: Message): number {
    ++this.routeStamp;
    this.routeSender = message.senderId;
    const hits = this.routeHits;
    this.subscriptionTree.match(message.topic, this.collectMatch);
    for (let i = 0; i < hits.length; i++) {
      const session = hits[i];
      // [MQTT-3.3.1-9] (v3.1.1) retain is 0 towards existing subscriptions, unless 5.0 retain-as-published.
      session.deliver(message, minQoS(message.qos, session.matchQos), session.matchRetainAsPublished && message.retain, session.matchSubIds);
    }
    let matched = hits.length;
    emptyList(hits);
    if (this.sharedTree.size > 0) {
      const groups = this.routeGroups;
      this.sharedTree.match(message.topic, this.collectGroup);
      for (let i = 0; i < groups.length; i++) if (groups[i].deliver(message)) matched++;
      emptyList(groups);
    }
    message.dropEncodings();
    return matched;
  }

  private readonly collectMatch = (_key: string, entry: SubscriptionEntry): void => {
    const subscription = entry.subscription;
    const session = entry.session;
    if (subscription.noLocal && session.clientId === this.routeSender) return;
    const id = subscription.subscriptionIdentifier;
    if (session.matchStamp !== this.routeStamp) {
      // First matching subscription of this session for this message.
      session.matchStamp = this.routeStamp;
      session.matchQos = subscription.qos;
      session.matchRetainAsPublished = subscription.retainAsPublished;
      session.matchSubIds = id !== undefined ? [id] : undefined;
      this.routeHits.push(session);
      return;
    }
    // Overlapping subscriptions: one delivery at the highest QoS, with every identifier.
    if (subscription.qos > session.matchQos) session.matchQos = subscription.qos;
    if (subscription.retainAsPublished) session.matchRetainAsPublished = true;
    if (id !== undefined) (session.matchSubIds ??= []).push(id);
  };

  private readonly collectGroup = (_key: string, group: SharedGroup): void => {
    this.routeGroups.push(group);
  };

  private storeRetained(message: Message): void {
    if (message.payload.length === 0) {
      // [MQTT-3.3.1-10] [MQTT-3.3.1-11] (v3.1.1) an empty retained payload clears the topic and is not stored.
      if (this.retained.delete(message.topic)) this.store.deleteRetained(message.topic);
      return;
    }
    message.own();
    this.retained.set(message.topic, message);
    this.store.putRetained(message);
  }

  private publishWill(will: PendingWill): void {
    const message = will.message;
    const expiry = message.properties?.messageExpiryInterval;
    if (expiry !== undefined) message.expiresAt = Date.now() + expiry * 1000;
    this.stats.willsPublished++;
    this.publish(message);
  }

  private delayWill(clientId: string, will: PendingWill, publishAt: number, now: number): void {
    // setTimeout holds at most ~24.8 days; a later will re-arms when the timer fires.
    const delay = Math.min(Math.max(0, publishAt - now), 0x7fffffff);
    const timer = setTimeout(() => {
      if (Date.now() >= publishAt) this.fireDelayedWill(clientId);
      else this.delayWill(clientId, will, publishAt, Date.now());
    }, delay);
    this.delayedWills.set(clientId, { will, timer, publishAt });
  }

  private dropDelayedWill(clientId: string): void {
    const pending = this.delayedWills.get(clientId);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.delayedWills.delete(clientId);
    this.store.deleteWill(clientId);
  }

  private fireDelayedWill(clientId: string): void {
    const pending = this.delayedWills.get(clientId);
    if (pending === undefined) return;
    this.dropDelayedWill(clientId);
    this.publishWill(pending.will);
  }

  private scheduleExpiry(session: Session, now: number): void {
    if (session.client !== undefined) return;
    if (session.expiryInterval === 0) {
      this.endSession(session);
      return;
    }
    if (session.expiryInterval === NEVER_EXPIRES) return;
    const deadline = (session.disconnectedAt ?? now) + session.expiryInterval * 1000;
    // setTimeout holds at most ~24.8 days; longer expiries re-arm when the timer fires.
    const delay = Math.min(Math.max(0, deadline - now), 0x7fffffff);
    session.expiryTimer = setTimeout(() => {
      session.expiryTimer = undefined;
      if (Date.now() >= deadline) this.endSession(session);
      else this.scheduleExpiry(session, Date.now());
    }, delay);
    session.expiryTimer.unref();
  }

  /** The session is over: its subscriptions go, its state goes, a delayed will fires. */
  private endSession(session: Session): void {
    if (this.sessions.get(session.clientId) !== session) return;
    // What a shared member still owed goes to the rest of its group, not down with the session.
    this.handOnShared(session);
    for (const filter of [...session.subscriptions.keys()]) this.unsubscribe(session, filter);
    if (session.stored) this.unpersistSession(session);
    session.discard();
    this.sessions.delete(session.clientId);
    this.fireDelayedWill(session.clientId);
  }

  /**
   * An acknowledgement freed room in a session's in-flight window. Within an input chunk the
   * session is drained once, after all of the chunk's acks, not once per ack: a chunk of 100
   * PUBACKs refills the window with one pass over the queue.
   */
  drainSoon(session: Session): void {
    if (!this.handlingInput) {
      session.drain();
      return;
    }
    const list = this.drainList;
    const n = list.length;
    // A chunk's acks come from one client, so a repeat is almost always the last one pushed.
    // (list[-1] of an empty list would be a lookup of the property "-1", through V8's slow path.)
    if (n === 0 || list[n - 1] !== session) list.push(session);
  }

  /** A client's input chunk is about to be decoded and handled (Client.onData). */
  startOfInput(): void {
    this.handlingInput = true;
  }

  /** The end of an input chunk: drains the sessions it acknowledged (drainSoon), then sends what was written. */
  endOfInput(): void {
    this.handlingInput = false;
    const list = this.drainList;
    for (let i = 0; i < list.length; i++) list[i].drain();
    emptyList(list);
    this.flushWrites();
  }

  /** Sends what was written since the last flush: at the end of an input chunk, or in the check phase. */
  private flushWrites(): void {
    const list = this.uncorkList;
    // uncork() never corks again, so the list does not grow while it is walked.
    for (let i = 0; i < list.length; i++) list[i].uncork();
    emptyList(list);
  }

  private readonly uncorkAll = (): void => {
    this.uncorkScheduled = false;
    this.flushWrites();
  };

  private onStoreError(error: unknown): void {
    // A write that cannot be made durable must not be acknowledged: stop taking traffic.
    this.logger.error('store failure; closing all connections', { error: String(error) });
    for (const client of [...this.clients]) client.disconnect(ReasonCode.UnspecifiedError, 'storage failure');
  }
}

/**
 * Empties a list that is refilled for every message. Popping keeps the array's storage for the
 * next use, where `length = 0` goes through the runtime and drops it (~60 ns, then a regrowth).
 */
function emptyList(list: unknown[]): void {
  while (list.length > 0) list.pop();
}
