// SUBSCRIBE: one return code per filter, SUBACK once the session's new subscriptions are
// durable, then the matching retained messages.

import type { QoS, SubackPacket, SubscribePacket } from '../../protocol/packets.js';
import { ReasonCode } from '../../protocol/reason-codes.js';
import { hasWildcard, isValidTopicFilter, parseSharedFilter } from '../../topics/validate.js';
import type { StoredSubscription } from '../../store/store.js';
import type { Client } from '../client.js';

/** The 3.1.1 SUBACK failure code; 5.0 has a reason per cause. */
const FAILURE_V3 = 0x80;

export function handleSubscribe(client: Client, packet: SubscribePacket): void {
  const broker = client.broker;
  const caps = broker.caps;
  const session = client.session!;
  const v5 = client.protocolVersion === 5;
  const subscriptionIdentifier = packet.properties?.subscriptionIdentifiers?.[0];
  const reasonCodes: number[] = [];
  const retainedFor: StoredSubscription[] = [];

  for (const requested of packet.subscriptions) {
    const fail = (v5Code: number): void => {
      reasonCodes.push(v5 ? v5Code : FAILURE_V3);
    };
    const shared = parseSharedFilter(requested.topicFilter);
    const filter = shared ? shared.filter : requested.topicFilter;
    if (shared === undefined || !isValidTopicFilter(filter)) {
      fail(ReasonCode.TopicFilterInvalid);
      continue;
    }
    if (shared !== null && !caps.sharedSubscriptionsAvailable) {
      fail(ReasonCode.SharedSubscriptionsNotSupported);
      continue;
    }
    if (shared !== null && v5 && requested.noLocal) {
      // [MQTT-3.8.3-4] (v5) no-local on a shared subscription is a protocol error
      client.disconnect(ReasonCode.ProtocolError, 'no local on a shared subscription');
      return;
    }
    if (!caps.wildcardSubscriptionAvailable && hasWildcard(filter)) {
      fail(ReasonCode.WildcardSubscriptionsNotSupported);
      continue;
    }
    if (subscriptionIdentifier !== undefined && !caps.subscriptionIdentifiersAvailable) {
      fail(ReasonCode.SubscriptionIdentifiersNotSupported);
      continue;
    }
    if (broker.hooks.authorizeSubscribe !== undefined && !broker.hooks.authorizeSubscribe(client.info, requested)) {
      fail(ReasonCode.NotAuthorized);
      continue;
    }
    const qos = Math.min(requested.qos, caps.maximumQoS) as QoS;
    const subscription: StoredSubscription = {
      topicFilter: requested.topicFilter,
      qos,
      noLocal: v5 && requested.noLocal,
      retainAsPublished: v5 && requested.retainAsPublished,
      retainHandling: v5 ? requested.retainHandling : 0,
    };
    if (subscriptionIdentifier !== undefined) subscription.subscriptionIdentifier = subscriptionIdentifier;
    const existed = broker.subscribe(session, subscription);
    reasonCodes.push(qos);
    // [MQTT-3.8.4-3] (v3.1.1) a repeated subscription sends the retained messages again;
    // 5.0 retain handling 1 sends them only for a new subscription, 2 never. Shared: never.
    if (shared === null && (subscription.retainHandling === 0 || (subscription.retainHandling === 1 && !existed))) {
      retainedFor.push(subscription);
    }
  }

  if (session.persistent) broker.persistSession(session);
  const suback: SubackPacket = { type: 9, packetId: packet.packetId, reasonCodes };
  broker.whenDurable(() => {
    if (!client.connected) return;
    client.send(suback);
    for (const subscription of retainedFor) broker.deliverRetained(session, subscription);
  });
}
