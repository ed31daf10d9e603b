// Concrete topic names -> values, as a trie by level, for the retained messages: a SUBSCRIBE finds
// the topics its filter matches by walking only the branches the filter allows, never by scanning
// every stored topic. It may hold millions of topics, so a node is five fields, one child is kept
// inline and a children Map exists only from the second child on (see level-branch.ts).
//
// All walks are loops with an explicit stack (a topic may have 32768 levels; see
// subscription-tree.ts).

import { addChild, deleteChild, findChild, hasChildren, pushChildren, type LevelBranch } from './level-branch.js';

const PLUS = 0x2b;
const HASH = 0x23;

class TopicNode<T> implements LevelBranch<TopicNode<T>> {
  onlyLevel: string | undefined = undefined;
  onlyChild: TopicNode<T> | undefined = undefined;
  children: Map<string, TopicNode<T>> | undefined = undefined;
  /**
   * The full topic stored here, or undefined when no value is: it marks presence (so T may
   * include undefined) and gives match() the name without joining levels back together.
   */
  topic: string | undefined = undefined;
  value: T | undefined = undefined;
}

export type TopicVisitor<T> = (topic: string, value: T) => void;

/** A map from topic names to values that can list the topics matching a filter. */
export class TopicIndex<T> {
  private readonly root = new TopicNode<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  set(topic: string, value: T): void {
    let node = this.root;
    let pos = 0;
    while (true) {
      let end = topic.indexOf('/', pos);
      if (end === -1) end = topic.length;
      let next = findChild(node, topic, pos, end);
      if (next === undefined) {
        next = new TopicNode<T>();
        addChild(node, topic.slice(pos, end), next);
      }
      node = next;
      if (end === topic.length) break;
      pos = end + 1;
    }
    if (node.topic === undefined) this.count++;
    node.topic = topic;
    node.value = value;
  }

  get(topic: string): T | undefined {
    return this.find(topic)?.value;
  }

  has(topic: string): boolean {
    return this.find(topic)?.topic !== undefined;
  }

  /** Removes the topic, pruning nodes left empty. Returns true if it was stored. */
  delete(topic: string): boolean {
    const path: TopicNode<T>[] = [];
    const levels: string[] = [];
    let node = this.root;
    let pos = 0;
    while (true) {
      let end = topic.indexOf('/', pos);
      if (end === -1) end = topic.length;
      const next = findChild(node, topic, pos, end);
      if (next === undefined) return false;
      path.push(node);
      levels.push(topic.slice(pos, end));
      node = next;
      if (end === topic.length) break;
      pos = end + 1;
    }
    if (node.topic === undefined) return false;
    node.topic = undefined;
    node.value = undefined;
    this.count--;
    // Prune upwards so that topics cleared over time do not leave empty branches behind.
    for (let i = path.length - 1; i >= 0 && node.topic === undefined && !hasChildren(node); i--) {
      deleteChild(path[i], levels[i]);
      node = path[i];
    }
    return true;
  }

  /**
   * Calls visit for every stored topic the filter matches, with the rules of
   * SubscriptionTree.match: "+" is one level, "#" is the level above and all below, and a filter
   * starting with a wildcard skips topics starting with "$" [MQTT-4.7.2-1]. The filter is expected
   * to be valid. The visitor may delete topics (an expired retained message, say): a deleted
   * topic is not visited afterwards. A topic set during the match may or may not be visited.
   */
  match(filter: string, visit: TopicVisitor<T>): void {
    const length = filter.length;
    // Pending (node, position in filter) pairs; pos > length means the filter is used up.
    const nodes: TopicNode<T>[] = [this.root];
    const positions: number[] = [0];
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const pos = positions.pop()!;
      if (pos > length) {
        if (node.topic !== undefined) visit(node.topic, node.value as T);
        continue;
      }
      let end = filter.indexOf('/', pos);
      if (end === -1) end = length;
      const single = end - pos === 1 ? filter.charCodeAt(pos) : -1;
      if (single === HASH) {
        // "#" matches this level too ("sport/#" matches "sport"), but the root is never a topic.
        if (node.topic !== undefined) visit(node.topic, node.value as T);
        visitSubtrees(node, node === this.root, visit);
      } else if (single === PLUS) {
        // [MQTT-4.7.2-1]: a "+" at the root does not descend into "$" levels.
        for (let n = pushChildren(node, nodes, node === this.root); n > 0; n--) positions.push(end + 1);
      } else {
        const child = findChild(node, filter, pos, end);
        if (child !== undefined) {
          nodes.push(child);
          positions.push(end + 1);
        }
      }
    }
  }

  /** Every stored [topic, value]; order is unspecified. */
  *entries(): IterableIterator<[topic: string, value: T]> {
    const stack: TopicNode<T>[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.topic !== undefined) yield [node.topic, node.value as T];
      pushChildren(node, stack, false);
    }
  }

  /** The number of trie nodes, root included; lets tests check that deletion prunes. */
  countNodes(): number {
    let nodes = 0;
    const stack: TopicNode<T>[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      nodes++;
      pushChildren(node, stack, false);
    }
    return nodes;
  }

  private find(topic: string): TopicNode<T> | undefined {
    let node = this.root;
    let pos = 0;
    while (true) {
      let end = topic.indexOf('/', pos);
      if (end === -1) end = topic.length;
      const next = findChild(node, topic, pos, end);
      if (next === undefined) return undefined;
      node = next;
      if (end === topic.length) return node;
      pos = end + 1;
    }
  }
}

/** Visits every topic stored below the node; below the root, "$" topics are left out. */
function visitSubtrees<T>(node: TopicNode<T>, atRoot: boolean, visit: TopicVisitor<T>): void {
  const stack: TopicNode<T>[] = [];
  pushChildren(node, stack, atRoot);
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (next.topic !== undefined) visit(next.topic, next.value as T);
    pushChildren(next, stack, false);
  }
}
