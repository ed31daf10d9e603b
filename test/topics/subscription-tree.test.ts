import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SubscriptionTree } from '../../src/topics/index.js';
import {
  allMatchCases, dollarCases, exactCases, multiLevelCases, noNormalisationCases, referenceMatches, singleLevelCases,
  type MatchCase,
} from './match-cases.js';

/** Every "filter key" pair the tree reports for the topic, sorted. */
function matched<T>(tree: SubscriptionTree<T>, topic: string): string[] {
  const out: string[] = [];
  tree.match(topic, (key, _value, filter) => out.push(`${filter} ${key}`));
  return out.sort();
}

function checkCases(cases: MatchCase[]): void {
  for (const { filter, topic, matches } of cases) {
    const tree = new SubscriptionTree<number>();
    tree.add(filter, 'c', 1);
    assert.deepEqual(matched(tree, topic), matches ? [`${filter} c`] : [], `${filter} vs ${topic}`);
  }
}

describe('SubscriptionTree matching', () => {
  test('the reference matcher agrees with every example', () => {
    for (const { filter, topic, matches } of allMatchCases) {
      assert.equal(referenceMatches(filter, topic), matches, `${filter} vs ${topic}`);
    }
  });

  test('"#" matches the parent level and every level below (4.7.1.2 examples)', () => checkCases(multiLevelCases));
  test('"+" matches exactly one level, empty ones too (4.7.1.3 examples)', () => checkCases(singleLevelCases));
  test('[MQTT-4.7.2-1] filters starting with "#" or "+" do not match "$" topics', () => checkCases(dollarCases));
  test('levels are compared exactly: case, spaces, leading and empty levels (4.7.3 examples)', () => checkCases(exactCases));
  test('[MQTT-4.7.3-4] matching does not normalise Unicode', () => checkCases(noNormalisationCases));

  test('[MQTT-3.3.2-3] with all example filters subscribed, a topic reaches exactly the filters that match it', () => {
    const tree = new SubscriptionTree<string>();
    const filters = [...new Set(allMatchCases.map((m) => m.filter))];
    for (const filter of filters) tree.add(filter, 'c1', filter);
    for (const filter of filters) tree.add(filter, 'c2', filter);
    for (const topic of new Set(allMatchCases.map((m) => m.topic))) {
      const expected = filters.filter((f) => referenceMatches(f, topic)).flatMap((f) => [`${f} c1`, `${f} c2`]);
      assert.deepEqual(matched(tree, topic), expected.sort(), topic);
    }
  });

  test('the visitor gets the key, the value and the filter as subscribed', () => {
    const tree = new SubscriptionTree<{ qos: number }>();
    const value = { qos: 1 };
    tree.add('a/+/c', 'client-1', value);
    const calls: unknown[] = [];
    tree.match('a/b/c', (key, v, filter) => calls.push([key, v, filter]));
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], ['client-1', value, 'a/+/c']);
    assert.equal((calls[0] as unknown[])[1], value);
  });

  test('an empty tree matches nothing', () => {
    assert.deepEqual(matched(new SubscriptionTree(), 'a/b'), []);
    assert.deepEqual(matched(new SubscriptionTree(), '$SYS/x'), []);
  });

  test('a visitor may match again (re-entrant match)', () => {
    const tree = new SubscriptionTree<number>();
    tree.add('a/+', 'x', 1);
    tree.add('a/#', 'y', 2);
    tree.add('+/b', 'z', 3);
    const outer: string[] = [];
    const inner: string[][] = [];
    tree.match('a/b', (key) => {
      outer.push(key);
      inner.push(matched(tree, 'q/b'));
    });
    assert.deepEqual(outer.sort(), ['x', 'y', 'z']);
    assert.deepEqual(inner, [['+/b z'], ['+/b z'], ['+/b z']]);
    assert.deepEqual(matched(tree, 'a/b'), ['+/b z', 'a/# y', 'a/+ x']);
  });

  test('a visitor that throws leaves the tree usable', () => {
    const tree = new SubscriptionTree<number>();
    tree.add('a', 'x', 1);
    assert.throws(() => tree.match('a', () => { throw new Error('boom'); }), /boom/);
    assert.deepEqual(matched(tree, 'a'), ['a x']);
  });

  test('topics and filters with 32767 levels neither overflow the stack nor mismatch', () => {
    const tree = new SubscriptionTree<number>();
    const plusFilter = '+/'.repeat(32766) + '+';
    const deepTopic = 'a/'.repeat(32766) + 'a';
    tree.add(plusFilter, 'p', 1);
    tree.add('a/'.repeat(32766) + '#', 'h', 2);
    tree.add(deepTopic, 'e', 3);
    tree.add('#', 'all', 4);
    const keys = (topic: string): string[] => {
      const out: string[] = [];
      tree.match(topic, (key) => out.push(key));
      return out.sort();
    };
    assert.deepEqual(keys(deepTopic), ['all', 'e', 'h', 'p']);
    assert.deepEqual(keys('/'.repeat(32766)), ['all', 'p']);
    assert.deepEqual(keys('/'.repeat(40000)), ['all']);
    assert.equal(tree.remove(plusFilter, 'p'), true);
    assert.equal(tree.remove(deepTopic, 'e'), true);
    assert.equal(tree.remove('a/'.repeat(32766) + '#', 'h'), true);
    assert.equal(tree.countNodes(), 1);
  });
});

describe('SubscriptionTree entries', () => {
  test('add reports whether it replaced an entry for the same filter and key', () => {
    const tree = new SubscriptionTree<number>();
    assert.equal(tree.add('a/b', 'c1', 1), false);
    assert.equal(tree.add('a/b', 'c2', 2), false);
    assert.equal(tree.add('a/+', 'c1', 3), false);
    assert.equal(tree.add('a/#', 'c1', 4), false);
    assert.equal(tree.add('a', 'c1', 5), false);
    assert.equal(tree.size, 5);
    assert.equal(tree.add('a/b', 'c1', 10), true);
    assert.equal(tree.size, 5);
    assert.equal(tree.get('a/b', 'c1'), 10);
    assert.equal(tree.get('a/b', 'c2'), 2);
    assert.equal(tree.get('a/+', 'c1'), 3);
    assert.equal(tree.get('a/#', 'c1'), 4);
    assert.equal(tree.get('a', 'c1'), 5);
    assert.equal(tree.get('a/+', 'c2'), undefined);
    assert.equal(tree.get('a/b/c', 'c1'), undefined);
    assert.equal(tree.get('#', 'c1'), undefined);
  });

  test('the "#" filter and the filter of its parent level are separate entries', () => {
    const tree = new SubscriptionTree<number>();
    tree.add('a/#', 'c', 1);
    tree.add('a', 'c', 2);
    assert.deepEqual(matched(tree, 'a'), ['a c', 'a/# c']);
    assert.equal(tree.remove('a/#', 'c'), true);
    assert.deepEqual(matched(tree, 'a'), ['a c']);
    assert.equal(tree.remove('a/#', 'c'), false);
    assert.equal(tree.get('a', 'c'), 2);
  });

  test('remove reports whether the entry existed and prunes emptied nodes', () => {
    const tree = new SubscriptionTree<number>();
    assert.equal(tree.countNodes(), 1);
    tree.add('a/b/c', 'k', 1);
    tree.add('a/+/c/#', 'k', 2);
    tree.add('#', 'k', 3);
    tree.add('+', 'k', 4);
    tree.add('a//', 'k', 5);
    const nodes = tree.countNodes();
    assert.equal(tree.remove('a/b/c', 'other'), false);
    assert.equal(tree.remove('a/b', 'k'), false);
    assert.equal(tree.remove('a/b/c/d', 'k'), false);
    assert.equal(tree.remove('x', 'k'), false);
    assert.equal(tree.countNodes(), nodes);
    for (const filter of ['a/b/c', 'a/+/c/#', '#', '+', 'a//']) {
      assert.equal(tree.remove(filter, 'k'), true, filter);
      assert.equal(tree.remove(filter, 'k'), false, filter);
    }
    assert.equal(tree.size, 0);
    assert.equal(tree.countNodes(), 1);
    assert.deepEqual(matched(tree, 'a/b/c'), []);
  });

  test('pruning stops at a node still in use', () => {
    const tree = new SubscriptionTree<number>();
    tree.add('a/b', 'k', 1);
    const withAB = tree.countNodes();
    tree.add('a/b/c/d', 'k', 2);
    tree.remove('a/b/c/d', 'k');
    assert.equal(tree.countNodes(), withAB);
    assert.deepEqual(matched(tree, 'a/b'), ['a/b k']);
  });

  test('a filter with many subscribers keeps get, replace and remove exact', () => {
    const tree = new SubscriptionTree<number>();
    for (let i = 0; i < 200; i++) assert.equal(tree.add('news/#', `c${i}`, i), false);
    assert.equal(tree.add('news/#', 'c7', 700), true);
    for (let i = 0; i < 200; i += 2) assert.equal(tree.remove('news/#', `c${i}`), true);
    assert.equal(tree.size, 100);
    for (let i = 0; i < 200; i++) assert.equal(tree.get('news/#', `c${i}`), i % 2 === 0 ? undefined : i === 7 ? 700 : i);
    const keys: string[] = [];
    tree.match('news/today', (key) => keys.push(key));
    assert.deepEqual(keys.sort(), Array.from({ length: 100 }, (_, i) => `c${2 * i + 1}`).sort());
    for (let i = 1; i < 200; i += 2) assert.equal(tree.remove('news/#', `c${i}`), true);
    assert.equal(tree.countNodes(), 1);
  });

  test('entries lists every (filter, key, value)', () => {
    const tree = new SubscriptionTree<number>();
    const added: [string, string, number][] = [['a', 'x', 1], ['a', 'y', 2], ['a/#', 'x', 3], ['+/+', 'x', 4], ['#', 'z', 5], ['/', 'x', 6]];
    for (const [filter, key, value] of added) tree.add(filter, key, value);
    const listed = [...tree.entries()].sort();
    assert.deepEqual(listed, [...added].sort());
  });
});
