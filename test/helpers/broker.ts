// Starts a real Midge on a free loopback port for one test file or one test.

import { createBroker, type MidgeBroker } from '../../src/server.js';
import type { BrokerOptions } from '../../src/broker/options.js';
import { createLogger } from '../../src/broker/logger.js';

export interface TestBroker {
  broker: MidgeBroker;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  const broker = createBroker({ logger: createLogger(process.env.MIDGE_LOG === '1' ? 'debug' : 'silent'), ...options });
  const address = await broker.listen({ port: 0, host: '127.0.0.1' });
  return {
    broker,
    port: address.port,
    url: `mqtt://127.0.0.1:${address.port}`,
    close: () => broker.close(),
  };
}
