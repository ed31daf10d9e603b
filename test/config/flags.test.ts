// Command-line flags: values, defaults, and errors that name the flag.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseFlags } from '../../src/config/flags.js';

test('defaults', () => {
  const c = parseFlags([]);
  assert.equal(c.port, 1883);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.dataDir, './data');
  assert.equal(c.memory, false);
  assert.equal(c.durability, 'os');
  assert.equal(c.netSockets, false);
  assert.deepEqual(c.limits, {});
});

test('limits and listeners are parsed, with --flag=value too', () => {
  const c = parseFlags(['--max-queued-messages', '500', '--max-queued-bytes=1048576', '--queue-full', 'drop-oldest',
    '--max-inflight', '20', '--max-inflight-retained', '500', '--max-packet-size', '65536', '--queue-window', '64', '--ws-port', '8080', '--durability', 'fsync', '--memory', '--net-sockets']);
  assert.deepEqual(c.limits, { maxQueuedMessages: 500, maxQueuedBytes: 1048576, queueFullPolicy: 'drop-oldest', maxInflight: 20, maxInflightRetained: 500, maximumPacketSize: 65536, queueWindow: 64 });
  assert.equal(c.wsPort, 8080);
  assert.equal(c.durability, 'fsync');
  assert.equal(c.memory, true);
  assert.equal(c.netSockets, true);
});

test('bad values are errors naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--max-queued-messages', '0'], /--max-queued-messages/],
    [['--max-inflight', '70000'], /--max-inflight/],
    [['--max-inflight-retained', '0'], /--max-inflight-retained/],
    [['--queue-window', '0'], /--queue-window/],
    [['--max-packet-size', 'big'], /--max-packet-size/],
    [['--queue-full', 'ignore'], /--queue-full/],
    [['--port', '65536'], /--port/],
    [['--durability', 'sometimes'], /--durability/],
    [['--tls-port', '8883'], /--tls-port needs --tls-cert and --tls-key/],
    [['--data-dir'], /--data-dir needs a value/],
    [['--nope'], /--nope/],
  ];
  for (const [argv, message] of cases) assert.throws(() => parseFlags(argv), (e: unknown) => e instanceof ConfigError && message.test(e.message), argv.join(' '));
});
