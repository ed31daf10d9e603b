// The matches of recently published topics, so that a topic published again is not walked
// through the subscription tree again: most traffic goes to a few topics over and over, and the
// walk (one lookup and one search for "/" per level, each "+" branch followed) costs more than
// one Map lookup. The owner clears it whenever a subscription is added or removed.
//
// Bounded, so that a client publishing to ever new topics costs a little time and no memory:
// only topics of up to MAX_TOPIC_LENGTH characters with up to MAX_MATCHES matches are kept, and
// the whole cache is dropped once it holds MAX_TOPICS topics or MAX_ENTRIES matches in all. A
// topic with more matches is remembered as such (TOO_MANY), so that it is walked straight away
// next time rather than recorded again for nothing (a fan-out to thousands of subscribers).

const MAX_TOPIC_LENGTH = 128;
const MAX_MATCHES = 128;
const MAX_TOPICS = 4096;
const MAX_ENTRIES = 32768;

/** What matched one topic, in the order the tree found it: key, value and filter of each entry. */
export class Matches<T> {
  readonly keys: string[] = [];
  readonly values: T[] = [];
  readonly filters: string[] = [];

  readonly add = (key: string, value: T, filter: string): void => {
    this.keys.push(key);
    this.values.push(value);
    this.filters.push(filter);
  };
}

/** What get() gives for a topic with more than MAX_MATCHES matches: walk the tree. */
export const TOO_MANY = null;

export class MatchCache<T> {
  private readonly byTopic = new Map<string, Matches<T> | typeof TOO_MANY>();
  private entries = 0;

  get(topic: string): Matches<T> | typeof TOO_MANY | undefined {
    return this.byTopic.size === 0 ? undefined : this.byTopic.get(topic);
  }

  /** Whether the matches of this topic would be kept (short topics only). */
  accepts(topic: string): boolean {
    return topic.length <= MAX_TOPIC_LENGTH;
  }

  /** Keeps what matched `topic`, one that accepts() took. */
  put(topic: string, matches: Matches<T>): void {
    const n = matches.keys.length;
    const kept = n > MAX_MATCHES ? TOO_MANY : matches;
    const entries = kept === TOO_MANY ? 0 : n;
    if (this.byTopic.size >= MAX_TOPICS || this.entries + entries > MAX_ENTRIES) this.clear();
    this.byTopic.set(topic, kept);
    this.entries += entries;
  }

  /** Forgets everything: the subscriptions changed. */
  clear(): void {
    if (this.byTopic.size === 0) return;
    this.byTopic.clear();
    this.entries = 0;
  }

  /** Topics held, for tests. */
  get size(): number {
    return this.byTopic.size;
  }
}
