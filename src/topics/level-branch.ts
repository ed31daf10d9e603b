// The literal children of a trie node, shared by both topic tries. Most nodes in real topic trees
// have one child ("devices/{id}/status": each id node has only "status"), and a one-entry Map
// costs about 190 bytes, so a single child is kept inline in two fields and a Map is made only for
// the second. With a million devices that is the difference between ~16 MB and ~190 MB.

export interface LevelBranch<N> {
  /** The level of the inline child, when there is exactly one child. */
  onlyLevel: string | undefined;
  onlyChild: N | undefined;
  /** All children, when there are two or more; then the inline fields are unset. */
  children: Map<string, N> | undefined;
}

const DOLLAR = 0x24;

/** The child for the level s[start, end), without slicing s when the child is inline. */
export function findChild<N>(node: LevelBranch<N>, s: string, start: number, end: number): N | undefined {
  const only = node.onlyLevel;
  if (only !== undefined) {
    return only.length === end - start && s.startsWith(only, start) ? node.onlyChild : undefined;
  }
  const children = node.children;
  return children === undefined ? undefined : children.get(s.slice(start, end));
}

export function getChild<N>(node: LevelBranch<N>, level: string): N | undefined {
  if (node.onlyLevel !== undefined) return node.onlyLevel === level ? node.onlyChild : undefined;
  return node.children?.get(level);
}

/** Adds a child for a level the node does not have yet. */
export function addChild<N>(node: LevelBranch<N>, level: string, child: N): void {
  if (node.children !== undefined) {
    node.children.set(level, child);
  } else if (node.onlyLevel === undefined) {
    node.onlyLevel = level;
    node.onlyChild = child;
  } else {
    node.children = new Map([[node.onlyLevel, node.onlyChild!], [level, child]]);
    node.onlyLevel = undefined;
    node.onlyChild = undefined;
  }
}

export function deleteChild<N>(node: LevelBranch<N>, level: string): void {
  if (node.onlyLevel === level) {
    node.onlyLevel = undefined;
    node.onlyChild = undefined;
    return;
  }
  const children = node.children;
  if (children === undefined || !children.delete(level)) return;
  // Back to inline when one is left, so churn does not leave one-entry Maps behind.
  if (children.size === 1) {
    for (const [lastLevel, lastChild] of children) {
      node.onlyLevel = lastLevel;
      node.onlyChild = lastChild;
    }
    node.children = undefined;
  }
}

export function hasChildren<N>(node: LevelBranch<N>): boolean {
  return node.onlyLevel !== undefined || node.children !== undefined;
}

/**
 * Pushes every child onto the stack and returns how many. With skipDollar, children whose level
 * starts with "$" are left out (wildcards at the root do not reach "$" topics).
 */
export function pushChildren<N>(node: LevelBranch<N>, stack: N[], skipDollar: boolean): number {
  const only = node.onlyLevel;
  if (only !== undefined) {
    if (skipDollar && only.charCodeAt(0) === DOLLAR) return 0;
    stack.push(node.onlyChild!);
    return 1;
  }
  const children = node.children;
  if (children === undefined) return 0;
  if (!skipDollar) {
    for (const child of children.values()) stack.push(child);
    return children.size;
  }
  let pushed = 0;
  for (const [level, child] of children) {
    if (level.charCodeAt(0) === DOLLAR) continue;
    stack.push(child);
    pushed++;
  }
  return pushed;
}
