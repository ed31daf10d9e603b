// The retained messages a new subscription is owed, sent from the session queue as its window
// allows rather than queued one by one. A `#` subscription can match millions of retained
// topics: as a feed they cost one reference each instead of a queued delivery each, and a
// message is sent (and its in-flight slot made) only when the client can take it.
//
// The feed sits in the session queue at the place the individual deliveries would have taken,
// so what was queued before it goes first and what arrives after it (a newer value of one of
// those topics, say) goes after: a subscriber never ends up with an older value than the
// retained one.

import type { QoS } from '../protocol/packets.js';
import type { Message } from './message.js';

export class RetainedFeed {
  /** The next message to send. */
  index = 0;

  constructor(
    /** The matches as they were when the subscription was made. */
    readonly messages: Message[],
    /** The subscription's granted QoS; each message goes at the lower of this and its own. */
    readonly qos: QoS,
    readonly subscriptionIds: number[] | undefined,
  ) {}

  get remaining(): number {
    return this.messages.length - this.index;
  }
}
