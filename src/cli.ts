// The `midge` command: parse flags, start the broker, stop cleanly on SIGINT/SIGTERM.

import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createBroker } from './server.js';
import { createLogger } from './broker/logger.js';
import { ConfigError, parseFlags, USAGE } from './config/flags.js';
import { openStore } from './store/open-store.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number | undefined> {
  let config;
  try {
    config = parseFlags(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`midge: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (config.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (config.version) {
    process.stdout.write(`midge ${packageVersion()}\n`);
    return 0;
  }

  const logger = createLogger(config.logLevel);
  let store;
  try {
    store = await openStore({ memory: config.memory, dataDir: config.dataDir, durability: config.durability });
  } catch (error) {
    // An unreadable or corrupt database stops the start: never a silent empty broker.
    process.stderr.write(`midge: ${(error as Error).message}\n`);
    return 1;
  }
  const broker = createBroker({ logger, store, ...config.limits });
  try {
    await broker.start();
  } catch (error) {
    process.stderr.write(`midge: cannot load the stored state: ${(error as Error).message}\n`);
    await store.close().catch(() => undefined);
    return 1;
  }
  const listeners: { scheme: string; port: number; open: () => Promise<AddressInfo> }[] = [
    { scheme: 'mqtt', port: config.port, open: () => broker.listen({ port: config.port, host: config.host, netSockets: config.netSockets }) },
  ];
  if (config.tlsPort !== undefined) {
    const port = config.tlsPort;
    listeners.push({ scheme: 'mqtts', port, open: () => broker.listenTls({ port, host: config.host, certFile: config.tlsCert, keyFile: config.tlsKey }) });
  }
  if (config.wsPort !== undefined) {
    const port = config.wsPort;
    listeners.push({ scheme: 'ws', port, open: () => broker.listenWebSocket({ port, host: config.host }) });
  }
  for (const listener of listeners) {
    try {
      const address = await listener.open();
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      process.stdout.write(`midge listening on ${listener.scheme}://${host}:${address.port}\n`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'EADDRINUSE' ? 'address in use' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
      process.stderr.write(`midge: cannot listen on ${config.host}:${listener.port} (${listener.scheme}): ${reason}\n`);
      await broker.close().catch(() => undefined);
      return 1;
    }
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    broker.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('error while stopping', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return undefined;
}
