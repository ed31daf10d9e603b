// PUBLISH from a client: check it, route it, acknowledge it once what it promised is durable.

import { isUtf8 } from 'node:buffer';
import type { PublishPacket } from '../../protocol/packets.js';
import { ReasonCode } from '../../protocol/reason-codes.js';
import { isValidTopicName } from '../../topics/validate.js';
import type { Client } from '../client.js';
import { Message } from '../message.js';

export function handlePublish(client: Client, packet: PublishPacket): void {
  const broker = client.broker;
  const v5 = client.protocolVersion === 5;
  let topic = packet.topic;
  let properties = packet.properties;

  if (v5 && properties !== undefined) {
    const alias = properties.topicAlias;
    if (alias !== undefined) {
      // 5.0 topic alias: 0 or above our maximum is a protocol error; an empty topic uses the alias.
      if (alias === 0 || alias > broker.caps.topicAliasMaximum) {
        client.disconnect(ReasonCode.TopicAliasInvalid, 'topic alias out of range');
        return;
      }
      const aliases = (client.inboundAliases ??= new Map());
      if (topic.length === 0) {
        const known = aliases.get(alias);
        if (known === undefined) {
          client.disconnect(ReasonCode.ProtocolError, 'unknown topic alias');
          return;
        }
        topic = known;
      } else {
        aliases.set(alias, topic);
      }
    }
    if (properties.responseTopic !== undefined && !isValidTopicName(properties.responseTopic)) {
      // [MQTT-3.3.2-14] (v5) a Response Topic is a topic name: no wildcards
      client.disconnect(ReasonCode.ProtocolError, 'invalid response topic');
      return;
    }
    if (properties.subscriptionIdentifiers !== undefined) {
      client.disconnect(ReasonCode.ProtocolError, 'subscription identifier in PUBLISH from a client');
      return;
    }
    if (alias !== undefined) {
      properties = { ...properties };
      delete properties.topicAlias;
    }
  }

  // [MQTT-3.3.2-2] no wildcards in a topic name; the connection is closed.
  if (topic !== client.lastValidTopic) {
    if (!isValidTopicName(topic)) {
      client.disconnect(ReasonCode.TopicNameInvalid, 'invalid topic name');
      return;
    }
    client.lastValidTopic = topic;
  }
  if (packet.qos > broker.caps.maximumQoS) {
    client.disconnect(ReasonCode.QoSNotSupported, 'QoS not supported');
    return;
  }
  if (packet.retain && !broker.caps.retainAvailable) {
    client.disconnect(ReasonCode.RetainNotSupported, 'retain not supported');
    return;
  }
  if (v5 && properties?.payloadFormatIndicator === 1 && !isWellFormedUtf8(packet.payload)) {
    // 5.0 payload format indicator 1 promises UTF-8: refuse the message, keep the connection.
    refuse(client, packet, ReasonCode.PayloadFormatInvalid);
    return;
  }

  const hooks = broker.hooks;
  if (hooks.authorizePublish !== undefined && !hooks.authorizePublish(client.info, packet)) {
    refuse(client, packet, ReasonCode.NotAuthorized);
    return;
  }

  if (packet.qos === 0) {
    broker.publish(newMessage(topic, packet, properties, client.clientId), client);
    return;
  }

  const packetId = packet.packetId!;
  const session = client.session!;
  const resent = packet.qos === 2 && session.incomingQos2.has(packetId);
  if (!resent && client.inboundUnacked >= broker.caps.receiveMaximum && v5) {
    // [MQTT-3.3.4-8] (v5) more unacknowledged QoS 1/2 PUBLISH than our Receive Maximum
    client.disconnect(ReasonCode.ReceiveMaximumExceeded, 'receive maximum exceeded');
    return;
  }
  if (packet.qos === 1) {
    client.inboundUnacked++;
    const matched = broker.publish(newMessage(topic, packet, properties, client.clientId), client);
    broker.acknowledgeWhenDurable(client, 4, packetId, v5 && matched === 0 ? ReasonCode.NoMatchingSubscribers : 0);
    return;
  }

  // QoS 2: the first PUBLISH with this id is routed; copies sent again before PUBREL are not
  // ([MQTT-4.3.3-2] (v3.1.1)). It counts against the Receive Maximum until PUBCOMP.
  // The packet id and the copies for persistent sessions go into the same store batch, so a
  // crash leaves both or neither; PUBREC waits for that batch.
  let reasonCode = 0;
  if (!resent) {
    client.inboundUnacked++;
    const matched = broker.publish(newMessage(topic, packet, properties, client.clientId), client);
    if (v5 && matched === 0) reasonCode = ReasonCode.NoMatchingSubscribers;
    session.addIncomingQos2(packetId);
    if (session.persistent) broker.store.putIncomingQos2(session.clientId, packetId);
  }
  broker.acknowledgeWhenDurable(client, 5, packetId, reasonCode);
}

function newMessage(topic: string, packet: PublishPacket, properties: PublishPacket['properties'], senderId: string): Message {
  const expiry = properties?.messageExpiryInterval;
  const expiresAt = expiry !== undefined ? Date.now() + expiry * 1000 : undefined;
  return new Message(topic, packet.payload, packet.qos, packet.retain, properties, expiresAt, senderId);
}

/** A QoS 1/2 message the broker will not take gets a failure ack in 5.0; 3.1.1 can only drop it. */
function refuse(client: Client, packet: PublishPacket, reasonCode: number): void {
  if (packet.qos === 0) return;
  if (client.protocolVersion === 5) {
    client.writeAck(packet.qos === 1 ? 4 : 5, packet.packetId!, reasonCode);
  } else if (reasonCode === ReasonCode.NotAuthorized) {
    // 3.1.1 has no negative ack: acknowledge and discard, so the client does not resend forever.
    client.writeAck(packet.qos === 1 ? 4 : 5, packet.packetId!, 0);
  }
}

function isWellFormedUtf8(payload: Buffer): boolean {
  return isUtf8(payload);
}
