// MQTT.js, the client most integration tests use, wrapped for tests: connect with a deadline,
// and a message collector to wait for the n-th message.

import mqtt, { type IClientOptions, type MqttClient, type IPublishPacket } from 'mqtt';
import { withTimeout } from './wait.js';

export interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

export async function connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return (await connectWithInbox(url, options)).client;
}

/**
 * Connects with an Inbox attached before CONNACK: a resumed session's messages can arrive in
 * the same chunk as the CONNACK, before `connect()` would return.
 */
export async function connectWithInbox(url: string, options: IClientOptions = {}): Promise<{ client: MqttClient; inbox: Inbox }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const inbox = new Inbox(client);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    }),
    6000,
    'MQTT.js connect',
  );
  return { client, inbox };
}

/** Collects every message a client receives, in order. */
export class Inbox {
  readonly messages: Received[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, packet });
      this.waiters = this.waiters.filter((w) => {
        if (this.messages.length >= w.count) w.resolve();
        return this.messages.length < w.count;
      });
    });
  }

  /** Resolves when at least `count` messages have arrived. */
  waitFor(count: number, ms = 5000): Promise<Received[]> {
    if (this.messages.length >= count) return Promise.resolve(this.messages);
    return withTimeout(
      new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
      ms,
      `${count} messages (have ${this.messages.length})`,
    ).then(() => this.messages);
  }
}

export function subscribe(client: MqttClient, filter: string | string[], options: mqtt.IClientSubscribeOptions = { qos: 0 }): Promise<mqtt.ISubscriptionGrant[]> {
  return withTimeout(client.subscribeAsync(filter, options), 5000, `SUBACK for ${String(filter)}`);
}

export function publish(client: MqttClient, topic: string, payload: string | Buffer, options: mqtt.IClientPublishOptions = {}): Promise<unknown> {
  return withTimeout(client.publishAsync(topic, payload, options), 5000, `publish to ${topic}`);
}

export async function end(...clients: MqttClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.endAsync()));
}

/** Closes the socket without DISCONNECT, as a crashed client would. */
export function drop(client: MqttClient): void {
  client.stream.destroy();
  client.end(true);
}
