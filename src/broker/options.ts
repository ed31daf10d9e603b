// Broker limits and features in one place. `Capabilities` both enforces the limits and fills
// the 5.0 CONNACK properties, so what the broker announces and what it does cannot drift.

import type { Properties, QoS } from '../protocol/packets.js';
import type { Logger } from './logger.js';
import type { Store } from '../store/store.js';
import type { BrokerHooks } from './hooks.js';
import type { Authenticator } from '../auth/authenticator.js';

/** At a full session queue: drop the new message, drop the oldest, or (online) disconnect with 0x97. */
export type QueueFullPolicy = 'drop-new' | 'drop-oldest' | 'disconnect';

/** Send every client elsewhere: 5.0 CONNACK 0x9C (use another server) or 0x9D (server moved). */
export interface Redirect {
  reasonCode: 0x9c | 0x9d;
  serverReference: string;
}

export interface BrokerOptions {
  store?: Store;
  logger?: Logger;
  hooks?: BrokerHooks;
  /** Largest packet accepted from a client, in bytes (whole packet). */
  maximumPacketSize?: number;
  /** Outgoing QoS 1/2 messages in flight per client (3.1.1); 5.0 clients may ask for fewer. */
  maxInflight?: number;
  /**
   * The same while the retained messages of a new subscription are sent (default 1000, never
   * below maxInflight). They are a burst the client asked for, all of them already in memory;
   * a window of 100 would make 50,000 of them cost 500 round trips or more. A 5.0 client's Receive
   * Maximum still caps it.
   */
  maxInflightRetained?: number;
  /** Incoming QoS 1/2 messages in flight per 5.0 client (announced as Receive Maximum). */
  receiveMaximum?: number;
  /** Messages kept for one session while it is offline or cannot keep up. */
  maxQueuedMessages?: number;
  /** Bytes of payload kept for one session while it is offline or cannot keep up. */
  maxQueuedBytes?: number;
  queueFullPolicy?: QueueFullPolicy;
  /**
   * With a store that pages queues (SQLite): queued messages of an online persistent session
   * kept in memory; the rest stay in the store until the window has room. An offline
   * session keeps none in memory.
   */
  queueWindow?: number;
  /** Bytes buffered on a connection before further messages wait in the session queue. */
  maxBufferedBytes?: number;
  maximumQoS?: QoS;
  retainAvailable?: boolean;
  wildcardSubscriptionAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionsAvailable?: boolean;
  /** Topic aliases a 5.0 client may use towards the broker. */
  topicAliasMaximum?: number;
  /** Upper bound on a client's keep alive, in seconds (5.0 Server Keep Alive); 0 = no cap. */
  maxKeepAlive?: number;
  /** Upper bound on a 5.0 session expiry interval, in seconds. */
  maxSessionExpiryInterval?: number;
  /** Time allowed between accepting a connection and its CONNECT, in ms. */
  connectTimeoutMs?: number;
  /** Prefix for client identifiers the broker assigns. */
  assignedClientIdPrefix?: string;
  /** 5.0 Response Information sent to clients that request it. */
  responseInformation?: string;
  /** 5.0 enhanced authentication methods (e.g. createScramAuthenticator()). */
  authenticators?: Authenticator[];
  redirect?: Redirect;
}

export interface Capabilities {
  maximumPacketSize: number;
  maxInflight: number;
  maxInflightRetained: number;
  receiveMaximum: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  queueFullPolicy: QueueFullPolicy;
  queueWindow: number;
  maxBufferedBytes: number;
  maximumQoS: QoS;
  retainAvailable: boolean;
  wildcardSubscriptionAvailable: boolean;
  subscriptionIdentifiersAvailable: boolean;
  sharedSubscriptionsAvailable: boolean;
  topicAliasMaximum: number;
  maxKeepAlive: number;
  maxSessionExpiryInterval: number;
  connectTimeoutMs: number;
  assignedClientIdPrefix: string;
  responseInformation: string | undefined;
  redirect: Redirect | undefined;
}

export const PROTOCOL_MAX_PACKET_SIZE = 268435455 + 5;

export function resolveCapabilities(options: BrokerOptions): Capabilities {
  return {
    maximumPacketSize: options.maximumPacketSize ?? PROTOCOL_MAX_PACKET_SIZE,
    maxInflight: options.maxInflight ?? 100,
    maxInflightRetained: Math.max(options.maxInflight ?? 100, options.maxInflightRetained ?? 1000),
    receiveMaximum: options.receiveMaximum ?? 65535,
    maxQueuedMessages: options.maxQueuedMessages ?? 100_000,
    maxQueuedBytes: options.maxQueuedBytes ?? 256 * 1024 * 1024,
    queueFullPolicy: options.queueFullPolicy ?? 'drop-new',
    queueWindow: Math.max(1, options.queueWindow ?? 1000),
    maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    maximumQoS: options.maximumQoS ?? 2,
    retainAvailable: options.retainAvailable ?? true,
    wildcardSubscriptionAvailable: options.wildcardSubscriptionAvailable ?? true,
    subscriptionIdentifiersAvailable: options.subscriptionIdentifiersAvailable ?? true,
    sharedSubscriptionsAvailable: options.sharedSubscriptionsAvailable ?? true,
    topicAliasMaximum: options.topicAliasMaximum ?? 65535,
    maxKeepAlive: options.maxKeepAlive ?? 0,
    maxSessionExpiryInterval: options.maxSessionExpiryInterval ?? 0xffffffff,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    assignedClientIdPrefix: options.assignedClientIdPrefix ?? 'midge-',
    responseInformation: options.responseInformation,
    redirect: options.redirect,
  };
}

/** The CONNACK properties a 5.0 client is told; only values that differ from the defaults. */
export function connackProperties(caps: Capabilities): Properties {
  const p: Properties = {};
  if (caps.receiveMaximum !== 65535) p.receiveMaximum = caps.receiveMaximum;
  if (caps.maximumQoS !== 2) p.maximumQoS = caps.maximumQoS;
  if (!caps.retainAvailable) p.retainAvailable = 0;
  if (caps.maximumPacketSize < PROTOCOL_MAX_PACKET_SIZE) p.maximumPacketSize = caps.maximumPacketSize;
  if (caps.topicAliasMaximum > 0) p.topicAliasMaximum = caps.topicAliasMaximum;
  if (!caps.wildcardSubscriptionAvailable) p.wildcardSubscriptionAvailable = 0;
  if (!caps.subscriptionIdentifiersAvailable) p.subscriptionIdentifierAvailable = 0;
  if (!caps.sharedSubscriptionsAvailable) p.sharedSubscriptionAvailable = 0;
  return p;
}
