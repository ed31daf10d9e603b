// MQTT.js connections that resume a session: the CONNACK is kept (session present, reason
// code), and an Inbox is attached before it, since the queued messages of a resumed session
// can arrive in the same chunk as the CONNACK.

import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { Inbox } from './mqttjs.js';
import { withTimeout } from './wait.js';

export interface SessionConnection {
  client: MqttClient;
  inbox: Inbox;
  connack: IConnackPacket;
}

export async function connectSession(url: string, options: IClientOptions): Promise<SessionConnection> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const inbox = new Inbox(client);
  try {
    const connack = await withTimeout(
      new Promise<IConnackPacket>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('error', reject);
      }),
      6000,
      `MQTT.js connect of ${options.clientId ?? 'a client'}`,
    );
    return { client, inbox, connack };
  } catch (error) {
    client.end(true);
    throw error;
  }
}
