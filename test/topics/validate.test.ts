import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { hasWildcard, isValidTopicFilter, isValidTopicName, parseSharedFilter } from '../../src/topics/index.js';

const validNames = ['a', '/', '//', 'a/b/c', '/finance', 'finance/', 'a//b', '$SYS/broker/uptime', 'Accounts payable', 'é/日本/😀', 'a$b', '$'];
const validFilters = [
  '#', '+', '+/+', '/+', '+/', 'a/#', 'a/+/b', '+/#', '/#', 'sport/tennis/player1/#', 'sport/+/player1',
  '$SYS/#', '$SYS/monitor/+', 'a//b', '/', ...validNames,
];

// Each check is registered once per spec version when the two standards number it differently,
// so that every test name carries exactly one version.
function wildcardsOnlyInFilters(): void {
  for (const topic of ['#', '+', 'a/#', 'a/+', 'a/+/b', 'sport/tennis#', 'a+', '+a', '#/a']) {
    assert.equal(isValidTopicName(topic), false, topic);
  }
  assert.equal(isValidTopicFilter('a/+/b'), true);
  assert.equal(isValidTopicFilter('a/#'), true);
}

function hashIsLastAndAlone(): void {
  for (const filter of ['#', 'a/#', '/#', 'sport/tennis/player1/#', '+/#']) {
    assert.equal(isValidTopicFilter(filter), true, filter);
  }
  for (const filter of ['sport/tennis#', 'sport/tennis/#/ranking', '#/', '#/a', 'a/#/', 'a#', '#a', 'a/b#', '##', 'a/##']) {
    assert.equal(isValidTopicFilter(filter), false, filter);
  }
}

function plusFillsItsLevel(): void {
  for (const filter of ['+', '+/tennis/#', 'sport/+/player1', '+/+', '/+', '+/', 'a/+', '+/a/+']) {
    assert.equal(isValidTopicFilter(filter), true, filter);
  }
  for (const filter of ['sport+', 'sport/+player1', 'a/b+/c', '++', '+a', 'a+/b', '+#', 'a/+#']) {
    assert.equal(isValidTopicFilter(filter), false, filter);
  }
}

describe('topic names', () => {
  test('accepts ordinary names, empty levels, "$" names and non-ASCII', () => {
    for (const topic of validNames) assert.equal(isValidTopicName(topic), true, topic);
  });

  test('[MQTT-3.3.2-2] a PUBLISH topic name with a wildcard is refused', () => {
    assert.equal(isValidTopicName('sport/+'), false);
    assert.equal(isValidTopicName('sport/#'), false);
  });
  test('[MQTT-4.7.1-1] (3.1.1) wildcards appear in filters only, never in names', wildcardsOnlyInFilters);
  test('[MQTT-4.7.0-1] (v5) wildcards appear in filters only, never in names', wildcardsOnlyInFilters);

  test('[MQTT-4.7.3-1] an empty topic name or filter is refused', () => {
    assert.equal(isValidTopicName(''), false);
    assert.equal(isValidTopicFilter(''), false);
  });

  test('[MQTT-4.7.3-2] a topic name or filter containing U+0000 is refused', () => {
    for (const s of ['\u0000', 'a\u0000b', 'a/\u0000', '\u0000/#']) {
      assert.equal(isValidTopicName(s), false, JSON.stringify(s));
      assert.equal(isValidTopicFilter(s), false, JSON.stringify(s));
    }
  });

  test('[MQTT-4.7.3-3] names and filters are limited to 65535 UTF-8 bytes, not 65535 characters', () => {
    assert.equal(isValidTopicName('a'.repeat(65535)), true);
    assert.equal(isValidTopicName('a'.repeat(65536)), false);
    assert.equal(isValidTopicFilter('a/'.repeat(32766) + 'a/#'), true); // 65535 bytes
    assert.equal(isValidTopicFilter('a/'.repeat(32767) + '#'), true); // 65535 bytes
    assert.equal(isValidTopicFilter('a/'.repeat(32767) + 'a/#'), false); // 65537 bytes
    // "é" is one UTF-16 unit but two UTF-8 bytes; "日" three; "😀" two units, four bytes.
    assert.equal(isValidTopicName('é'.repeat(32767) + 'a'), true); // 65535 bytes
    assert.equal(isValidTopicName('é'.repeat(32768)), false); // 65536 bytes
    assert.equal(isValidTopicName('日'.repeat(21845)), true); // 65535 bytes
    assert.equal(isValidTopicName('日'.repeat(21845) + 'a'), false);
    assert.equal(isValidTopicName('😀'.repeat(16383) + 'abc'), true); // 65535 bytes
    assert.equal(isValidTopicName('😀'.repeat(16384)), false); // 65536 bytes
  });

  test('a lone UTF-16 surrogate, which has no UTF-8 encoding, is refused', () => {
    for (const s of ['\ud800', 'a\udc00', 'a/\ud83d', '\ude00\ud83d', 'a\ud83db']) {
      assert.equal(isValidTopicName(s), false, JSON.stringify(s));
      assert.equal(isValidTopicFilter(s + '/#'), false, JSON.stringify(s));
    }
    assert.equal(isValidTopicName('\ud83d\ude00'), true);
  });

  test('U+FEFF and other non-ASCII characters are allowed as they are', () => {
    assert.equal(isValidTopicName('a\ufeffb'), true);
    assert.equal(isValidTopicFilter('\ufeff/+'), true);
  });
});

describe('topic filters', () => {
  test('accepts every valid filter shape', () => {
    for (const filter of validFilters) assert.equal(isValidTopicFilter(filter), true, filter);
  });

  test('[MQTT-4.7.1-2] (3.1.1) "#" fills the last level and only it', hashIsLastAndAlone);
  test('[MQTT-4.7.1-1] (v5) "#" fills the last level and only it', hashIsLastAndAlone);
  test('[MQTT-4.7.1-3] (3.1.1) "+" fills a whole level, at any level', plusFillsItsLevel);
  test('[MQTT-4.7.1-2] (v5) "+" fills a whole level, at any level', plusFillsItsLevel);

  test('hasWildcard tells filters with "+" or "#" from literal ones', () => {
    for (const filter of ['#', '+', 'a/+/b', 'a/#', '$share/g/+']) assert.equal(hasWildcard(filter), true, filter);
    for (const filter of ['a', 'a/b', '/', '$SYS/x', '$share/g/a']) assert.equal(hasWildcard(filter), false, filter);
  });
});

describe('shared subscription filters', () => {
  test('a filter not starting with "$share/" is not a shared one (null)', () => {
    for (const filter of ['a/b', '#', '$SYS/#', '$share', '$sharex/g/a', '$SHARE/g/a', 'x/$share/g/a']) {
      assert.equal(parseSharedFilter(filter), null, filter);
    }
  });

  test('[MQTT-4.8.2-1] (v5) "$share/" is followed by a ShareName of at least one character', () => {
    assert.deepEqual(parseSharedFilter('$share/g/a'), { group: 'g', filter: 'a' });
    assert.equal(parseSharedFilter('$share//a'), undefined);
    assert.equal(parseSharedFilter('$share/'), undefined);
    assert.equal(parseSharedFilter('$share//'), undefined);
  });

  test('[MQTT-4.8.2-2] (v5) the ShareName has no "/", "+" or "#" and is followed by "/" and a valid filter', () => {
    assert.deepEqual(parseSharedFilter('$share/consumer1/sport/tennis/+'), { group: 'consumer1', filter: 'sport/tennis/+' });
    assert.deepEqual(parseSharedFilter('$share/consumer2/#'), { group: 'consumer2', filter: '#' });
    assert.deepEqual(parseSharedFilter('$share/g/$SYS/#'), { group: 'g', filter: '$SYS/#' });
    assert.deepEqual(parseSharedFilter('$share/g//'), { group: 'g', filter: '/' });
    assert.deepEqual(parseSharedFilter('$share/g/+/+'), { group: 'g', filter: '+/+' });
    assert.deepEqual(parseSharedFilter('$share/a b$é/x'), { group: 'a b$é', filter: 'x' });
    // ShareName with a wildcard.
    for (const filter of ['$share/+/a', '$share/#/a', '$share/g+/a', '$share/g#/a', '$share/#']) {
      assert.equal(parseSharedFilter(filter), undefined, filter);
    }
    // No filter after the ShareName, or an invalid one. ("/" can never be part of the ShareName:
    // the first "/" after it ends it.)
    for (const filter of ['$share/g', '$share/g/', '$share/g/a/#/b', '$share/g/a+', '$share/g/a\u0000']) {
      assert.equal(parseSharedFilter(filter), undefined, filter);
    }
    assert.equal(parseSharedFilter('$share/g\u0000/a'), undefined);
    // "$share/g/" is 9 bytes: the whole string, not only the inner filter, must fit in 65535.
    assert.equal(parseSharedFilter('$share/g/' + 'a'.repeat(65536 - 9)), undefined);
    assert.equal(parseSharedFilter('$share/g/' + 'a'.repeat(65535 - 9))?.group, 'g');
  });
});
