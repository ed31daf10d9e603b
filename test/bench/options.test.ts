import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseOptions, UsageError } from '../../bench/harness/options.js';

test('bench options: the floors (Node and C) run the latency scenarios and are refused for any other', () => {
  const ok = parseOptions(['--brokers', 'floor,midge,mosquitto', '--scenarios', 'latency-qos0,latency-qos1'], {});
  assert.deepEqual(ok?.brokers, ['floor', 'midge', 'mosquitto']);
  assert.deepEqual(ok?.scenarios, ['latency-qos0', 'latency-qos1']);
  assert.throws(() => parseOptions(['--brokers', 'floor,midge', '--scenarios', 'latency-qos0,pairs-qos0'], {}), (e: unknown) => e instanceof UsageError && /not pairs-qos0/.test(e.message));
  // Every scenario is the default: the floor alone would be refused for most of them.
  assert.throws(() => parseOptions(['--brokers', 'floor'], {}), UsageError);
  // The floor in C likewise.
  assert.deepEqual(parseOptions(['--brokers', 'floor-c,floor', '--scenarios', 'latency-qos1'], {})?.brokers, ['floor-c', 'floor']);
  assert.throws(() => parseOptions(['--brokers', 'floor-c', '--scenarios', 'fan-out'], {}), (e: unknown) => e instanceof UsageError && /not fan-out/.test(e.message));
  // Without the floor any scenario goes.
  assert.deepEqual(parseOptions(['--brokers', 'midge', '--scenarios', 'pairs-qos0'], {})?.scenarios, ['pairs-qos0']);
});
