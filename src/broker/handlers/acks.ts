// PUBACK, PUBREC, PUBREL, PUBCOMP from a client: the four steps of the QoS 1 and QoS 2 flows.

import type { AckPacket } from '../../protocol/packets.js';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { Client } from '../client.js';

/** PUBACK: a QoS 1 message the broker sent is delivered. */
export function handlePuback(client: Client, packet: AckPacket): void {
  client.session!.complete(packet.packetId, 1);
}

/** PUBREC: first half of an outgoing QoS 2 flow; answer PUBREL. */
export function handlePubrec(client: Client, packet: AckPacket): void {
  const session = client.session!;
  if (packet.reasonCode !== undefined && packet.reasonCode >= 0x80) {
    session.abandon(packet.packetId);
    return;
  }
  const known = session.release(packet.packetId);
  // PUBREL only once "released" is durable: after a crash the broker must resend PUBREL, not
  // the PUBLISH ([MQTT-4.3.3-1] (v3.1.1)).
  client.broker.acknowledgeWhenDurable(client, 6, packet.packetId, known ? 0 : ReasonCode.PacketIdentifierNotFound);
}

/** PUBREL: the client releases an incoming QoS 2 message; answer PUBCOMP. */
export function handlePubrel(client: Client, packet: AckPacket): void {
  const session = client.session!;
  const known = session.incomingQos2.delete(packet.packetId);
  // The client's quota returns with our PUBCOMP; nothing can be sent in between that matters.
  if (known && client.inboundUnacked > 0) client.inboundUnacked--;
  if (known && session.persistent) client.broker.store.deleteIncomingQos2(session.clientId, packet.packetId);
  client.broker.acknowledgeWhenDurable(client, 7, packet.packetId, known ? 0 : ReasonCode.PacketIdentifierNotFound);
}

/** PUBCOMP: an outgoing QoS 2 message is delivered. */
export function handlePubcomp(client: Client, packet: AckPacket): void {
  client.session!.complete(packet.packetId, 2);
}
