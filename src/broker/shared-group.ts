// A 5.0 shared subscription group, `$share/{group}/{filter}`: each message goes to one member.
// Members are taken in turn, preferring those online and able to take the message now, so a
// slow or offline member does not hold up the group.

import type { SubscriptionEntry } from './broker.js';
import { minQoS, type Message } from './message.js';
import type { Session } from './session.js';

export class SharedGroup {
  private members: SubscriptionEntry[] = [];
  private next = 0;

  /** The shared subscription's own filter, `$share/{group}/{filter}`: how deliveries name the group. */
  readonly key: string;

  constructor(
    readonly group: string,
    readonly filter: string,
  ) {
    this.key = `$share/${group}/${filter}`;
  }

  get size(): number {
    return this.members.length;
  }

  add(entry: SubscriptionEntry): void {
    const index = this.members.findIndex((m) => m.session === entry.session);
    if (index >= 0) this.members[index] = entry;
    else this.members.push(entry);
  }

  remove(session: Session): boolean {
    const index = this.members.findIndex((m) => m.session === session);
    if (index < 0) return false;
    this.members.splice(index, 1);
    return true;
  }

  /** Whether a member other than `session` could take a message (online, or offline with a persistent session). */
  hasTakerBesides(session: Session): boolean {
    return this.members.some((m) => m.session !== session && (m.session.client !== undefined || m.session.persistent));
  }

  /** Gives the message to one member; false when the group has nobody to take it. */
  deliver(message: Message, exclude?: Session): boolean {
    const entry = this.pick(message, exclude);
    if (entry === undefined) return false;
    const subscription = entry.subscription;
    const ids = subscription.subscriptionIdentifier !== undefined ? [subscription.subscriptionIdentifier] : undefined;
    entry.session.deliver(message, minQoS(message.qos, subscription.qos), subscription.retainAsPublished && message.retain, ids, this.key);
    return true;
  }

  private pick(message: Message, exclude: Session | undefined): SubscriptionEntry | undefined {
    const n = this.members.length;
    let online: SubscriptionEntry | undefined;
    let offline: SubscriptionEntry | undefined;
    for (let i = 0; i < n; i++) {
      const index = (this.next + i) % n;
      const entry = this.members[index];
      if (entry.session === exclude) continue;
      const client = entry.session.client;
      if (client !== undefined) {
        if (client.canSend(message.qos, entry.session.inflight.size)) {
          this.next = (index + 1) % n;
          return entry;
        }
        online ??= entry;
      } else if (entry.session.persistent) {
        offline ??= entry;
      }
    }
    this.next = (this.next + 1) % Math.max(n, 1);
    return online ?? offline;
  }
}
