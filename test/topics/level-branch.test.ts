import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addChild, deleteChild, findChild, getChild, hasChildren, pushChildren, type LevelBranch } from '../../src/topics/level-branch.js';

const branch = (): LevelBranch<string> => ({ onlyLevel: undefined, onlyChild: undefined, children: undefined });
const mapSize = (node: LevelBranch<string>): number | undefined => node.children?.size;

test('one child stays inline, a second moves both to a Map, and back to inline on removal', () => {
  const node = branch();
  assert.equal(hasChildren(node), false);
  addChild(node, 'a', 'A');
  assert.equal(node.children, undefined);
  assert.equal(node.onlyLevel, 'a');
  assert.equal(getChild(node, 'a'), 'A');
  addChild(node, '', 'EMPTY');
  assert.equal(node.onlyLevel, undefined);
  assert.equal(mapSize(node), 2);
  addChild(node, '$b', 'B');
  assert.equal(getChild(node, ''), 'EMPTY');
  deleteChild(node, 'a');
  deleteChild(node, 'missing');
  assert.equal(mapSize(node), 2);
  deleteChild(node, '');
  assert.equal(node.children, undefined);
  assert.equal(node.onlyLevel, '$b');
  assert.equal(getChild(node, '$b'), 'B');
  deleteChild(node, '$b');
  assert.equal(hasChildren(node), false);
});

test('findChild looks a level up inside a longer string, inline or in the Map', () => {
  const node = branch();
  addChild(node, 'b', 'B');
  const s = 'a/b/bb//';
  assert.equal(findChild(node, s, 2, 3), 'B');
  assert.equal(findChild(node, s, 4, 6), undefined); // "bb"
  assert.equal(findChild(node, s, 0, 1), undefined); // "a"
  assert.equal(findChild(node, s, 7, 7), undefined); // ""
  addChild(node, '', 'EMPTY');
  assert.equal(findChild(node, s, 7, 7), 'EMPTY');
  assert.equal(findChild(node, s, 2, 3), 'B');
  assert.equal(findChild(node, s, 4, 6), undefined);
});

test('pushChildren can leave out "$" levels', () => {
  const node = branch();
  addChild(node, '$SYS', 'S');
  const stack: string[] = [];
  assert.equal(pushChildren(node, stack, true), 0);
  assert.equal(pushChildren(node, stack, false), 1);
  addChild(node, 'a', 'A');
  addChild(node, 'b$', 'B');
  assert.equal(pushChildren(node, stack, true), 2);
  assert.deepEqual(stack, ['S', 'A', 'B']);
});
