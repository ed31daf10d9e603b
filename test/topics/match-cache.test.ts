// The subscription tree keeps the matches of recent topics (MatchCache): what it hands back must
// always be what a walk of the tree would find now.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SubscriptionTree } from '../../src/topics/index.js';

function matched<T>(tree: SubscriptionTree<T>, topic: string): string[] {
  const out: string[] = [];
  tree.match(topic, (key, value, filter) => out.push(`${filter} ${key} ${String(value)}`));
  return out.sort();
}

describe('SubscriptionTree match cache', () => {
  test('adding, replacing and removing entries changes what a topic matched before', () => {
    const tree = new SubscriptionTree<number>();
    assert.deepEqual(matched(tree, 'a/b'), []);
    tree.add('a/b', 'k1', 1);
    assert.deepEqual(matched(tree, 'a/b'), ['a/b k1 1']);
    assert.deepEqual(matched(tree, 'a/b'), ['a/b k1 1']);
    tree.add('a/+', 'k2', 2);
    assert.deepEqual(matched(tree, 'a/b'), ['a/+ k2 2', 'a/b k1 1']);
    tree.add('a/b', 'k1', 3); // replaced value
    assert.deepEqual(matched(tree, 'a/b'), ['a/+ k2 2', 'a/b k1 3']);
    assert.equal(tree.remove('a/b', 'k1'), true);
    assert.deepEqual(matched(tree, 'a/b'), ['a/+ k2 2']);
    assert.equal(tree.remove('a/b', 'nobody'), false);
    tree.add('#', 'k3', 4);
    assert.deepEqual(matched(tree, 'a/b'), ['# k3 4', 'a/+ k2 2']);
    assert.deepEqual(matched(tree, '$SYS/x'), [], '[MQTT-4.7.2-1] still no "#" match for a "$" topic');
  });

  test('long topics and topics with many matches are walked every time, and match the same', () => {
    const tree = new SubscriptionTree<number>();
    const long = `t/${'x'.repeat(300)}`;
    tree.add(long, 'a', 1);
    tree.add('t/#', 'b', 2);
    for (let i = 0; i < 200; i++) tree.add('w/+', `s${i}`, i);
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(matched(tree, long), [`${long} a 1`, 't/# b 2'].sort());
      assert.equal(matched(tree, 'w/1').length, 200);
    }
    // The long topic is not kept; the one with 200 matches is kept as "walk it" only.
    assert.equal(tree.cachedTopics, 1);
    tree.remove('w/+', 's7');
    assert.equal(tree.cachedTopics, 0);
    assert.equal(matched(tree, 'w/1').length, 199);
  });

  test('ever new topics do not grow the cache past its bound', () => {
    const tree = new SubscriptionTree<number>();
    tree.add('n/+', 'k', 1);
    for (let i = 0; i < 10_000; i++) assert.equal(matched(tree, `n/${i}`).length, 1);
    assert.ok(tree.cachedTopics > 0 && tree.cachedTopics <= 4096, `${tree.cachedTopics} topics kept`);
    tree.add('other', 'k', 2);
    assert.equal(tree.cachedTopics, 0, 'a change of subscriptions drops what was kept');
  });

  test('a visitor may match again while matches from the cache are being visited', () => {
    const tree = new SubscriptionTree<number>();
    tree.add('r/1', 'a', 1);
    tree.add('r/+', 'b', 2);
    matched(tree, 'r/1');
    const seen: string[] = [];
    tree.match('r/1', (key) => {
      seen.push(key);
      if (key === 'a') tree.match('r/1', (inner) => seen.push(`inner ${inner}`));
    });
    assert.deepEqual(seen.sort(), ['a', 'b', 'inner a', 'inner b']);
  });
});
