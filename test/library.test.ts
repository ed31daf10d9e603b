// The broker as a library, imported by its package name as a user would (needs the build).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, end, Inbox, publish, subscribe } from './helpers/mqttjs.js';

test("import { createBroker } from 'midge': listen, serve, close", async () => {
  // By name through package.json "exports" (the built dist/), typed as the sources it is built from.
  const packageName = 'midge';
  const { createBroker, createLogger } = (await import(packageName)) as typeof import('../src/index.js');
  const broker = createBroker({ logger: createLogger('silent') });
  const address = await broker.listen({ port: 0, host: '127.0.0.1' });
  const client = await connect(`mqtt://127.0.0.1:${address.port}`);
  const inbox = new Inbox(client);
  await subscribe(client, 'lib/t');
  await publish(client, 'lib/t', 'from the package', { qos: 1 });
  assert.equal((await inbox.waitFor(1))[0].payload.toString(), 'from the package');
  await end(client);
  await broker.close();
});
