// Hooks let an embedding program take part in decisions (authentication, authorization) and
// observe events. Names follow Aedes so its users can move over. An absent hook costs one
// property check.

import type { ConnectPacket, PublishPacket, Subscription } from '../protocol/packets.js';

export interface ClientInfo {
  clientId: string;
  username?: string;
  protocolVersion: 3 | 4 | 5;
  remoteAddress?: string;
}

export interface BrokerHooks {
  /** Return false (or a reason code) to refuse the connection before authentication. */
  preConnect?(info: { remoteAddress?: string }, packet: ConnectPacket): boolean | number;
  /** Return true to accept, false for bad user name or password, or a 5.0 reason code. */
  authenticate?(client: ClientInfo, username: string | undefined, password: Buffer | undefined): boolean | number;
  /** Return false to refuse a PUBLISH from this client (QoS 1/2 get a failure ack in 5.0). */
  authorizePublish?(client: ClientInfo, packet: PublishPacket): boolean;
  /** Return false to refuse the subscription (SUBACK failure code). */
  authorizeSubscribe?(client: ClientInfo, subscription: Subscription): boolean;
  /** Called for every message the broker routes, wills included. */
  published?(packet: { topic: string; payload: Buffer; qos: number; retain: boolean }, client: ClientInfo | undefined): void;
}
