// What the main thread and the load-generator workers say to each other. Every request gets
// exactly one reply (or an `error`), so the main thread can wait for each with a deadline.

import type { QoS } from '../../src/protocol/packets.js';

/** How a publisher paces itself. */
export type PublishMode =
  /** As fast as flow control allows: socket backpressure at QoS 0, a window of unacked messages at QoS 1/2. */
  | 'max'
  /** A fixed offered rate (messages per second), still within the window. */
  | 'rate';

export interface PublisherSpec {
  id: number;
  topic: string;
  qos: QoS;
  mode: PublishMode;
  /** Unacked QoS 1/2 messages at most. */
  window: number;
  ratePerSec?: number;
  /**
   * Messages this publisher may be ahead of the slowest of its pacing subscribers (0: no limit).
   * Bounds what sits in socket buffers (loopback buffers take tens of MB), so that loss and
   * latency mean something at QoS 0.
   */
  ahead: number;
  /** Slots of the shared progress array its pacing subscribers write. */
  paceSlots: number[];
}

export interface SubscriberSpec {
  id: number;
  filter: string;
  qos: QoS;
  /** The publisher ids whose every message this subscriber should get. */
  expects: number[];
  /** The publishers this subscriber paces: it writes how many of their messages it has to `slot`. */
  paces: { publisher: number; slot: number }[];
  /**
   * Connect with clean session 0 (a persistent session) under a stable client id,
   * `bench-durable-s<id>`, the same in every run and worker, as a device that comes back would.
   */
  persistent?: boolean;
  /** Reads at most this many messages per second (a slow consumer): the socket is paused when ahead. */
  maxRate?: number;
}

export interface SetupRequest {
  op: 'setup';
  port: number;
  tag: string;
  epochNs: bigint;
  payloadSize: number;
  /** Int32 per pacing slot: messages a subscriber has from a publisher, shared by all workers. */
  progress: SharedArrayBuffer;
  publishers: PublisherSpec[];
  subscribers: SubscriberSpec[];
  connectConcurrency: number;
  timeoutMs: number;
}

export interface StartRequest {
  op: 'start';
  startUs: number;
  warmupEndUs: number;
  endUs: number;
}

export interface ExpectRequest {
  op: 'expect';
  /** Messages each publisher (by id) sent in total. */
  sent: Record<number, number>;
  /** Longest wait for stragglers. */
  drainMs: number;
  /** Give up earlier when nothing at all arrives for this long. */
  idleMs: number;
}

export interface ConnectionsRequest {
  op: 'connections';
  port: number;
  tag: string;
  epochNs: bigint;
  count: number;
  concurrency: number;
  timeoutMs: number;
}

export interface RetainedLoadRequest {
  op: 'retained-load';
  port: number;
  tag: string;
  epochNs: bigint;
  count: number;
  payloadSize: number;
  window: number;
  timeoutMs: number;
}

export interface RetainedSubscribeRequest {
  op: 'retained-subscribe';
  qos: QoS;
  timeoutMs: number;
  idleMs: number;
}

export interface TeardownRequest {
  op: 'teardown';
}

export type WorkerRequest =
  | SetupRequest
  | StartRequest
  | ExpectRequest
  | ConnectionsRequest
  | RetainedLoadRequest
  | RetainedSubscribeRequest
  | TeardownRequest;

export interface FlowCounts {
  /** PUBLISH packets received by this worker's subscribers, duplicates included. */
  received: number;
  /** Received within the measured window (by receive time). */
  receivedInWindow: number;
  /** Sent within the measured window (by send time). */
  sentInWindow: number;
  expected: number;
  unique: number;
  lost: number;
  duplicates: number;
  reordered: number;
  /** Messages from a publisher the subscriber should not hear from, or with a bad payload. */
  unexpected: number;
  /** QoS 1/2 messages the broker never acknowledged by the end of the drain. */
  unacked: number;
  histogram: Uint32Array;
  latencyMaxUs: number;
  /** Event-loop utilisation of this worker over the measured window (0..1). */
  elu: number;
  /** CPU of this worker's thread over the measured window, % of one core. */
  threadCpuPct: number;
  errors: string[];
}

export type WorkerReply =
  | { op: 'ready' }
  | { op: 'stopped'; sent: Record<number, number> }
  | ({ op: 'result' } & FlowCounts)
  | { op: 'connected'; firstStartUs: number; lastConnackUs: number; connected: number; failed: number; histogram: Uint32Array; latencyMaxUs: number; threadCpuPct: number; errors: string[] }
  | { op: 'retained-loaded'; loadMs: number; acked: number; errors: string[] }
  | ({ op: 'retained-result'; allMs: number; firstMs: number; maxUnacked: number } & FlowCounts)
  | { op: 'clean' }
  | { op: 'error'; message: string };
