import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TopicIndex } from '../../src/topics/index.js';
import {
  allMatchCases, dollarCases, exactCases, multiLevelCases, noNormalisationCases, referenceMatches, singleLevelCases,
  type MatchCase,
} from './match-cases.js';

function matched<T>(index: TopicIndex<T>, filter: string): string[] {
  const out: string[] = [];
  index.match(filter, (topic) => out.push(topic));
  return out.sort();
}

function checkCases(cases: MatchCase[]): void {
  for (const { filter, topic, matches } of cases) {
    const index = new TopicIndex<number>();
    index.set(topic, 1);
    assert.deepEqual(matched(index, filter), matches ? [topic] : [], `${filter} vs ${topic}`);
  }
}

describe('TopicIndex matching', () => {
  test('"#" matches the parent level and every level below (4.7.1.2 examples)', () => checkCases(multiLevelCases));
  test('"+" matches exactly one level, empty ones too (4.7.1.3 examples)', () => checkCases(singleLevelCases));
  test('[MQTT-4.7.2-1] filters starting with "#" or "+" do not return "$" topics', () => checkCases(dollarCases));
  test('levels are compared exactly: case, spaces, leading and empty levels (4.7.3 examples)', () => checkCases(exactCases));
  test('[MQTT-4.7.3-4] matching does not normalise Unicode', () => checkCases(noNormalisationCases));

  test('with all example topics stored, a filter returns exactly the topics it matches', () => {
    const index = new TopicIndex<string>();
    const topics = [...new Set(allMatchCases.map((m) => m.topic))];
    for (const topic of topics) index.set(topic, topic);
    for (const filter of new Set(allMatchCases.map((m) => m.filter))) {
      assert.deepEqual(matched(index, filter), topics.filter((t) => referenceMatches(filter, t)).sort(), filter);
    }
  });

  test('the visitor gets the full topic and its value', () => {
    const index = new TopicIndex<{ payload: string }>();
    const value = { payload: 'on' };
    index.set('home/kitchen/light', value);
    const calls: [string, { payload: string }][] = [];
    index.match('home/+/light', (topic, v) => calls.push([topic, v]));
    assert.equal(calls.length, 1);
    assert.equal(calls[0][0], 'home/kitchen/light');
    assert.equal(calls[0][1], value);
  });

  test('a visitor may match again (re-entrant match)', () => {
    const index = new TopicIndex<number>();
    index.set('a/b', 1);
    index.set('a/c', 2);
    const inner: string[][] = [];
    index.match('a/+', () => inner.push(matched(index, '#')));
    assert.deepEqual(inner, [['a/b', 'a/c'], ['a/b', 'a/c']]);
  });

  test('a visitor may delete topics: each is visited at most once, deleted ones not after', () => {
    const index = new TopicIndex<number>();
    const topics = ['a', 'a/b', 'a/b/c', 'a/c', 'a/d/e', 'b'];
    for (const topic of topics) index.set(topic, 1);
    const seen: string[] = [];
    index.match('#', (topic) => {
      seen.push(topic);
      index.delete(topic);
      if (topic === 'a/b') index.delete('a/d/e');
      if (topic === 'a/d/e') index.delete('a/b');
    });
    assert.equal(new Set(seen).size, seen.length);
    assert.equal(seen.includes('a/b') && seen.includes('a/d/e'), false);
    assert.equal(seen.length, topics.length - 1);
    assert.equal(index.size, 0);
    assert.equal(index.countNodes(), 1);
  });

  test('topics with 32767 levels neither overflow the stack nor mismatch', () => {
    const index = new TopicIndex<number>();
    const deepTopic = 'a/'.repeat(32766) + 'a';
    const slashes = '/'.repeat(32766);
    index.set(deepTopic, 1);
    index.set(slashes, 2);
    assert.equal(index.get(deepTopic), 1);
    assert.deepEqual(matched(index, '#'), [slashes, deepTopic].sort());
    assert.deepEqual(matched(index, '+/'.repeat(32766) + '+'), [slashes, deepTopic].sort());
    assert.deepEqual(matched(index, 'a/'.repeat(32766) + '#'), [deepTopic]);
    assert.deepEqual(matched(index, '/'.repeat(32767)), []);
    assert.equal(index.delete(deepTopic), true);
    assert.equal(index.delete(slashes), true);
    assert.equal(index.countNodes(), 1);
  });
});

describe('TopicIndex entries', () => {
  test('set, get, has, delete and size', () => {
    const index = new TopicIndex<number>();
    index.set('a/b', 1);
    index.set('a', 2);
    index.set('a/b', 3);
    index.set('/', 4);
    assert.equal(index.size, 3);
    assert.equal(index.get('a/b'), 3);
    assert.equal(index.get('a'), 2);
    assert.equal(index.get('/'), 4);
    assert.equal(index.get(''), undefined);
    assert.equal(index.get('a/'), undefined);
    assert.equal(index.get('a/b/c'), undefined);
    assert.equal(index.has('a'), true);
    assert.equal(index.has('x'), false);
    assert.equal(index.delete('a/b/c'), false);
    assert.equal(index.delete('x'), false);
    assert.equal(index.delete('a'), true);
    assert.equal(index.delete('a'), false);
    assert.equal(index.has('a'), false);
    assert.equal(index.get('a/b'), 3);
    assert.equal(index.size, 2);
  });

  test('a stored undefined is still present', () => {
    const index = new TopicIndex<number | undefined>();
    index.set('a', undefined);
    assert.equal(index.size, 1);
    assert.equal(index.has('a'), true);
    assert.deepEqual(matched(index, '#'), ['a']);
    assert.equal(index.delete('a'), true);
    assert.equal(index.size, 0);
  });

  test('delete prunes emptied nodes, and stops at a node still in use', () => {
    const index = new TopicIndex<number>();
    index.set('a/b', 1);
    const withAB = index.countNodes();
    index.set('a/b/c/d', 2);
    index.set('x//y', 3);
    assert.equal(index.delete('a/b/c/d'), true);
    assert.equal(index.delete('x//y'), true);
    assert.equal(index.countNodes(), withAB);
    assert.equal(index.delete('a/b'), true);
    assert.equal(index.countNodes(), 1);
    assert.equal(index.size, 0);
  });

  test('a value on an inner node survives deleting the topics below it', () => {
    const index = new TopicIndex<number>();
    index.set('a', 1);
    index.set('a/b', 2);
    index.delete('a/b');
    assert.equal(index.get('a'), 1);
    assert.equal(index.countNodes(), 2);
  });

  test('entries lists every topic and value', () => {
    const index = new TopicIndex<number>();
    const stored: [string, number][] = [['a', 1], ['a/b', 2], ['/', 3], ['$SYS/x', 4], ['a//', 5]];
    for (const [topic, value] of stored) index.set(topic, value);
    assert.deepEqual([...index.entries()].sort(), [...stored].sort());
  });
});
