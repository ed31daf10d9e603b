// UNSUBSCRIBE: remove each filter; UNSUBACK (with a reason per filter in 5.0).

import type { UnsubackPacket, UnsubscribePacket } from '../../protocol/packets.js';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { Client } from '../client.js';

export function handleUnsubscribe(client: Client, packet: UnsubscribePacket): void {
  const broker = client.broker;
  const session = client.session!;
  const reasonCodes: number[] = [];
  for (const filter of packet.topicFilters) {
    const existed = broker.unsubscribe(session, filter);
    reasonCodes.push(existed ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted);
  }
  if (session.persistent) broker.persistSession(session);
  const unsuback: UnsubackPacket = { type: 11, packetId: packet.packetId };
  if (client.protocolVersion === 5) unsuback.reasonCodes = reasonCodes;
  broker.whenDurable(() => {
    if (client.connected) client.send(unsuback);
  });
}
