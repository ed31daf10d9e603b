// The subscription index: a trie with one node per filter level. Matching a PUBLISH topic walks the
// topic string once with indexOf('/'), following at each node the exact child for the level, the
// "+" child, and emitting the "#" subscribers, so its cost depends on the topic's depth and the
// number of wildcard branches, not on the number of subscriptions. A topic matched lately is
// not walked again: its matches are kept until the subscriptions change (match-cache.ts).
//
// Every walk is a loop with an explicit stack, never recursion: filters and topics may have up to
// 32768 levels ("/" repeated), deep enough to overflow the call stack if each level were a frame.

import { KeyedValues } from './keyed-values.js';
import { MatchCache, Matches, TOO_MANY } from './match-cache.js';
import { addChild, deleteChild, findChild, getChild, hasChildren, pushChildren, type LevelBranch } from './level-branch.js';

const SLASH = 0x2f;
const HASH = 0x23;
const DOLLAR = 0x24;

class FilterNode<T> implements LevelBranch<FilterNode<T>> {
  // Children by literal level (anything but "+").
  onlyLevel: string | undefined = undefined;
  onlyChild: FilterNode<T> | undefined = undefined;
  children: Map<string, FilterNode<T>> | undefined = undefined;
  /** The "+" child. */
  plus: FilterNode<T> | undefined = undefined;
  /** Subscribers of the filter that continues with "/#" (or is "#") below this node. */
  hash: KeyedValues<T> | undefined = undefined;
  /** Subscribers of the filter that ends at this node. */
  exact: KeyedValues<T> | undefined = undefined;

  isEmpty(): boolean {
    return !hasChildren(this) && this.plus === undefined && this.hash === undefined && this.exact === undefined;
  }
}

export type SubscriptionVisitor<T> = (key: string, value: T, filter: string) => void;

/**
 * Maps (topic filter, key) to a value, where the key is typically a client id, and finds every
 * entry whose filter matches a topic name. Filters are expected to be valid
 * ({@link isValidTopicFilter}); the tree does not check them again.
 */
export class SubscriptionTree<T> {
  private readonly root = new FilterNode<T>();
  private count = 0;
  // The match stack is kept between calls so that a PUBLISH allocates nothing; a visitor that
  // calls match() again gets a fresh one (see match()).
  private readonly nodeStack: FilterNode<T>[] = [];
  private readonly positionStack: number[] = [];
  private matching = false;
  private readonly cache = new MatchCache<T>();

  /** The number of (filter, key) entries. */
  get size(): number {
    return this.count;
  }

  /** Stores the value under (filter, key). Returns true if it replaced an entry for that pair. */
  add(filter: string, key: string, value: T): boolean {
    this.cache.clear();
    const node = this.walkTo(filter, true)!;
    const hash = endsWithHash(filter);
    const list = hash ? node.hash : node.exact;
    if (list !== undefined) {
      const replaced = list.set(key, value);
      if (!replaced) this.count++;
      return replaced;
    }
    if (hash) node.hash = new KeyedValues(filter, key, value);
    else node.exact = new KeyedValues(filter, key, value);
    this.count++;
    return false;
  }

  /** Removes the entry for (filter, key), pruning nodes left empty. Returns true if it existed. */
  remove(filter: string, key: string): boolean {
    const path: FilterNode<T>[] = [];
    const levels: string[] = [];
    let node = this.walkTo(filter, false, path, levels);
    if (node === undefined) return false;
    const hash = endsWithHash(filter);
    const list = hash ? node.hash : node.exact;
    if (list === undefined || !list.delete(key)) return false;
    this.cache.clear();
    this.count--;
    if (list.length === 0) {
      if (hash) node.hash = undefined;
      else node.exact = undefined;
    }
    // Prune upwards: churn of short-lived filters must not leave a trail of empty nodes.
    for (let i = path.length - 1; i >= 0 && node.isEmpty(); i--) {
      const parent = path[i];
      const level = levels[i];
      if (level === '+') {
        parent.plus = undefined;
      } else {
        deleteChild(parent, level);
      }
      node = parent;
    }
    return true;
  }

  get(filter: string, key: string): T | undefined {
    const node = this.walkTo(filter, false);
    if (node === undefined) return undefined;
    const list = endsWithHash(filter) ? node.hash : node.exact;
    if (list === undefined) return undefined;
    const at = list.indexOf(key);
    return at === -1 ? undefined : list.values[at];
  }

  /**
   * Calls visit for every entry whose filter matches the topic name: "+" matches exactly one level
   * (an empty one too), "#" matches the level above it and everything below, and a filter that
   * starts with a wildcard does not match a topic that starts with "$" [MQTT-4.7.2-1].
   * The visitor must not add or remove entries while the match runs; collect them and act after.
   */
  match(topic: string, visit: SubscriptionVisitor<T>): void {
    const cached = this.cache.get(topic);
    if (cached !== undefined) {
      if (cached === TOO_MANY) this.walk(topic, visit);
      else visitMatches(cached, visit);
      return;
    }
    if (this.cache.accepts(topic)) {
      // Walked once, kept (MatchCache), and visited from what was kept.
      const found = new Matches<T>();
      this.walk(topic, found.add);
      this.cache.put(topic, found);
      visitMatches(found, visit);
      return;
    }
    this.walk(topic, visit);
  }

  private walk(topic: string, visit: SubscriptionVisitor<T>): void {
    if (this.matching) {
      this.walkMatches(topic, visit, [], []);
      return;
    }
    this.matching = true;
    try {
      this.walkMatches(topic, visit, this.nodeStack, this.positionStack);
    } finally {
      this.matching = false;
    }
  }

  /** Every entry, for diagnostics; order is unspecified. */
  *entries(): IterableIterator<[filter: string, key: string, value: T]> {
    const stack: FilterNode<T>[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      for (const list of [node.exact, node.hash]) {
        if (list === undefined) continue;
        for (let i = 0; i < list.length; i++) yield [list.filter, list.keys[i], list.values[i]];
      }
      if (node.plus !== undefined) stack.push(node.plus);
      pushChildren(node, stack, false);
    }
  }

  /** Topics whose matches are kept (MatchCache), for tests. */
  get cachedTopics(): number {
    return this.cache.size;
  }

  /** The number of trie nodes, root included; lets tests check that removal prunes. */
  countNodes(): number {
    let nodes = 0;
    const stack: FilterNode<T>[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      nodes++;
      if (node.plus !== undefined) stack.push(node.plus);
      pushChildren(node, stack, false);
    }
    return nodes;
  }

  private walkMatches(topic: string, visit: SubscriptionVisitor<T>, nodes: FilterNode<T>[], positions: number[]): void {
    const length = topic.length;
    let node = this.root;
    // pos is where the next topic level starts; pos > length means every level has been consumed.
    let pos = 0;
    if (topic.charCodeAt(0) === DOLLAR) {
      // [MQTT-4.7.2-1]: only the literal children of the root may match a "$" topic.
      let end = topic.indexOf('/');
      if (end === -1) end = length;
      const next = findChild(node, topic, 0, end);
      if (next === undefined) return;
      node = next;
      pos = end + 1;
    }
    let top = 0;
    while (true) {
      // Follow the literal path down from node, stacking the "+" branches met on the way.
      while (true) {
        if (node.hash !== undefined) visitAll(node.hash, visit);
        if (pos > length) {
          if (node.exact !== undefined) visitAll(node.exact, visit);
          break;
        }
        let end = topic.indexOf('/', pos);
        if (end === -1) end = length;
        if (node.plus !== undefined) {
          nodes[top] = node.plus;
          positions[top] = end + 1;
          top++;
        }
        const next = findChild(node, topic, pos, end);
        if (next === undefined) break;
        node = next;
        pos = end + 1;
      }
      if (top === 0) return;
      top--;
      node = nodes[top];
      pos = positions[top];
    }
  }

  /**
   * The node that holds the filter's entries: for a filter ending in "#", the node of the level
   * above the "#". With create, missing nodes are made; otherwise a missing one gives undefined.
   * path and levels, when given, receive each parent passed and the level taken from it.
   */
  private walkTo(filter: string, create: boolean, path?: FilterNode<T>[], levels?: string[]): FilterNode<T> | undefined {
    let node = this.root;
    // The levels to walk are those before the "#" level, if there is one.
    const stop = endsWithHash(filter) ? filter.length - 2 : filter.length;
    if (stop < 0) return node;
    let pos = 0;
    while (true) {
      let end = filter.indexOf('/', pos);
      if (end === -1 || end > stop) end = stop;
      const level = filter.slice(pos, end);
      path?.push(node);
      levels?.push(level);
      let next: FilterNode<T> | undefined;
      if (level === '+') {
        next = node.plus;
        if (next === undefined && create) next = node.plus = new FilterNode<T>();
      } else {
        next = getChild(node, level);
        if (next === undefined && create) {
          next = new FilterNode<T>();
          addChild(node, level, next);
        }
      }
      if (next === undefined) return undefined;
      node = next;
      if (end === stop) return node;
      pos = end + 1;
    }
  }
}

function visitMatches<T>(found: Matches<T>, visit: SubscriptionVisitor<T>): void {
  const { keys, values, filters } = found;
  for (let i = 0; i < keys.length; i++) visit(keys[i], values[i], filters[i]);
}

function visitAll<T>(list: KeyedValues<T>, visit: SubscriptionVisitor<T>): void {
  // Locals, because the engine cannot assume that visit leaves the arrays alone.
  const { keys, values, filter } = list;
  for (let i = 0; i < keys.length; i++) visit(keys[i], values[i], filter);
}

/** True when the filter's last level is "#". */
function endsWithHash(filter: string): boolean {
  const length = filter.length;
  return (
    length > 0 && filter.charCodeAt(length - 1) === HASH && (length === 1 || filter.charCodeAt(length - 2) === SLASH)
  );
}
