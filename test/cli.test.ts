// The `midge` command as a user runs it: bin/midge.js (built into dist/ by npm ci / npm test).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Program } from './helpers/process.js';
import { connect, connectWithInbox, end, Inbox, publish, subscribe } from './helpers/mqttjs.js';
import { freePort } from './helpers/free-port.js';

const midge = (...args: string[]): Program => Program.start(process.execPath, ['bin/midge.js', ...args]);

function stderrOf(program: Program): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    program.child.stderr?.on('data', (chunk: string) => (text += chunk));
    program.child.on('exit', () => resolve(text));
  });
}

describe('midge command', () => {
  test('--help prints usage and --version the version', async () => {
    const help = midge('--help');
    assert.equal(await help.waitExit(), 0);
    assert.ok(help.lines.some((l) => l.startsWith('Usage: midge')));
    const version = midge('--version');
    assert.equal(await version.waitExit(), 0);
    assert.match(version.lines[0], /^midge \d+\.\d+\.\d+$/);
  });

  test('a bad flag is a one-line error naming it, exit code 1', async () => {
    for (const args of [['--bogus'], ['--port', 'abc'], ['--log-level', 'loud']]) {
      const p = midge(...args);
      const err = stderrOf(p);
      assert.equal(await p.waitExit(), 1);
      const text = (await err).trim();
      assert.equal(text.split('\n').length, 1, text);
      assert.ok(text.includes(args[0]), text);
    }
  });

  test('a port in use is a one-line error naming it, exit code 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const p = midge('--port', String(port), '--host', '127.0.0.1', '--memory');
    const err = stderrOf(p);
    assert.equal(await p.waitExit(), 1);
    const text = (await err).trim();
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${port}.*address in use`));
    blocker.close();
  });

  test('starts, prints where it listens, serves clients, and exits 0 on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const port = await freePort();
      const p = midge('--port', String(port), '--host', '127.0.0.1', '--memory', '--log-level', 'warn');
      const line = await p.waitForLine(/^midge listening on /);
      assert.equal(line, `midge listening on mqtt://127.0.0.1:${port}`);
      const client = await connect(`mqtt://127.0.0.1:${port}`);
      const inbox = new Inbox(client);
      await subscribe(client, 'cli/t');
      await publish(client, 'cli/t', 'hello', { qos: 1 });
      await inbox.waitFor(1);
      p.kill(signal);
      assert.equal(await p.waitExit(), 0);
      await end(client).catch(() => undefined);
    }
  });

  test('--net-sockets serves TCP clients through net.Socket, and they talk as before', async () => {
    const port = await freePort();
    const p = midge('--port', String(port), '--host', '127.0.0.1', '--memory', '--log-level', 'info', '--net-sockets');
    const log = stderrOf(p);
    await p.waitForLine(/^midge listening on /);
    const client = await connect(`mqtt://127.0.0.1:${port}`);
    const inbox = new Inbox(client);
    await subscribe(client, 'cli/net', { qos: 1 });
    await publish(client, 'cli/net', 'through net.Socket', { qos: 1 });
    assert.equal((await inbox.waitFor(1))[0].payload.toString(), 'through net.Socket');
    await end(client);
    p.kill('SIGTERM');
    assert.equal(await p.waitExit(), 0);
    assert.match(await log, /TCP connections served as net\.Socket, as asked/);
  });
});

describe('midge command limits', () => {
  test('--max-queued-messages bounds what an offline session keeps', async () => {
    const port = await freePort();
    const p = midge('--port', String(port), '--host', '127.0.0.1', '--memory', '--log-level', 'error', '--max-queued-messages', '5');
    await p.waitForLine(/^midge listening on /);
    const url = `mqtt://127.0.0.1:${port}`;
    const sub = await connect(url, { clientId: 'cli-bounded', clean: false });
    await subscribe(sub, 'cli/bounded', { qos: 1 });
    await end(sub);
    const pub = await connect(url);
    for (let i = 0; i < 8; i++) await publish(pub, 'cli/bounded', String(i), { qos: 1 });
    const { client: back, inbox } = await connectWithInbox(url, { clientId: 'cli-bounded', clean: false });
    await publish(pub, 'cli/bounded/probe', 'x', { qos: 1 });
    await subscribe(back, 'cli/bounded/probe', { qos: 1 });
    await publish(pub, 'cli/bounded/probe', 'probe', { qos: 1 });
    const got = await inbox.waitFor(6);
    assert.deepEqual(got.map((m) => m.payload.toString()), ['0', '1', '2', '3', '4', 'probe']);
    await end(pub, back);
    p.kill('SIGTERM');
    assert.equal(await p.waitExit(), 0);
  });
});
