// Property tests: both tries against the split-and-compare reference matcher, on filters and
// topics drawn from a small alphabet so that random ones collide often (shared prefixes, "$"
// levels, empty levels, "+" and "#").
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SubscriptionTree, TopicIndex } from '../../src/topics/index.js';
import { referenceMatches } from './match-cases.js';

const topicLevel = fc.constantFrom('a', 'b', 'ab', '', '$a', '$');
const filterLevel = fc.constantFrom('a', 'b', '', '$a', '+', '+');
const topicArb = fc.array(topicLevel, { minLength: 1, maxLength: 4 }).map((levels) => levels.join('/'));
const filterArb = fc
  .tuple(fc.array(filterLevel, { minLength: 0, maxLength: 4 }), fc.boolean())
  .filter(([levels, hash]) => levels.length > 0 || hash)
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'));
const keyArb = fc.constantFrom('k1', 'k2', 'k3');

/** Distinct level prefixes of the given level lists, plus the root: the nodes a pruned trie needs. */
function expectedNodes(levelLists: string[][]): number {
  const prefixes = new Set<string>();
  for (const levels of levelLists) {
    for (let i = 1; i <= levels.length; i++) prefixes.add(levels.slice(0, i).join('/'));
  }
  return prefixes.size + 1;
}

/** A filter's trie levels: a final "#" lives on its parent node, not in a node of its own. */
function filterNodeLevels(filter: string): string[] {
  const levels = filter.split('/');
  return levels[levels.length - 1] === '#' ? levels.slice(0, -1) : levels;
}

describe('matching against the reference matcher', () => {
  test('[MQTT-3.3.2-3][MQTT-4.7.2-1] SubscriptionTree.match reports exactly the matching (filter, key) pairs', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(filterArb, keyArb), { maxLength: 30 }), fc.array(topicArb, { minLength: 1, maxLength: 10 }), (subs, topics) => {
        const tree = new SubscriptionTree<string>();
        for (const [filter, key] of subs) tree.add(filter, key, `${filter} ${key}`);
        const unique = [...new Set(subs.map(([f, k]) => `${f} ${k}`))];
        for (const topic of topics) {
          const got: string[] = [];
          tree.match(topic, (key, value, filter) => {
            assert.equal(value, `${filter} ${key}`);
            got.push(value);
          });
          const expected = unique.filter((s) => referenceMatches(s.slice(0, s.lastIndexOf(' ')), topic));
          assert.deepEqual(got.sort(), expected.sort(), topic);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('[MQTT-4.7.2-1] TopicIndex.match returns exactly the matching topics', () => {
    fc.assert(
      fc.property(fc.array(topicArb, { maxLength: 40 }), fc.array(filterArb, { minLength: 1, maxLength: 10 }), (topics, filters) => {
        const index = new TopicIndex<string>();
        for (const topic of topics) index.set(topic, topic);
        const unique = [...new Set(topics)];
        for (const filter of filters) {
          const got: string[] = [];
          index.match(filter, (topic, value) => {
            assert.equal(value, topic);
            got.push(topic);
          });
          assert.deepEqual(got.sort(), unique.filter((t) => referenceMatches(filter, t)).sort(), filter);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('add/remove sequences against a Map', () => {
  test('SubscriptionTree keeps no stale entry and no empty node', () => {
    const op = fc.tuple(fc.boolean(), filterArb, keyArb, fc.nat(9));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const tree = new SubscriptionTree<number>();
        const model = new Map<string, number>(); // "filter\0key" -> value
        for (const [isAdd, filter, key, value] of ops) {
          const id = `${filter}\0${key}`;
          if (isAdd) {
            assert.equal(tree.add(filter, key, value), model.has(id));
            model.set(id, value);
          } else {
            assert.equal(tree.remove(filter, key), model.delete(id));
          }
          assert.equal(tree.size, model.size);
        }
        const listed = [...tree.entries()].map(([f, k, v]) => `${f}\0${k}=${v}`).sort();
        assert.deepEqual(listed, [...model].map(([id, v]) => `${id}=${v}`).sort());
        for (const [id, value] of model) {
          const [filter, key] = id.split('\0');
          assert.equal(tree.get(filter, key), value);
        }
        const filters = [...new Set([...model.keys()].map((id) => id.split('\0')[0]))];
        assert.equal(tree.countNodes(), expectedNodes(filters.map(filterNodeLevels)));
        for (const id of model.keys()) {
          const [filter, key] = id.split('\0');
          assert.equal(tree.remove(filter, key), true);
        }
        assert.equal(tree.size, 0);
        assert.equal(tree.countNodes(), 1);
      }),
      { numRuns: 300 },
    );
  });

  test('TopicIndex keeps no stale topic and no empty node', () => {
    const op = fc.tuple(fc.boolean(), topicArb, fc.nat(9));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const index = new TopicIndex<number>();
        const model = new Map<string, number>();
        for (const [isSet, topic, value] of ops) {
          if (isSet) {
            index.set(topic, value);
            model.set(topic, value);
          } else {
            assert.equal(index.delete(topic), model.delete(topic));
          }
          assert.equal(index.size, model.size);
        }
        assert.deepEqual([...index.entries()].sort(), [...model].sort());
        for (const [topic, value] of model) assert.equal(index.get(topic), value);
        assert.equal(index.countNodes(), expectedNodes([...model.keys()].map((t) => t.split('/'))));
        for (const topic of model.keys()) assert.equal(index.delete(topic), true);
        assert.equal(index.size, 0);
        assert.equal(index.countNodes(), 1);
      }),
      { numRuns: 300 },
    );
  });
});
