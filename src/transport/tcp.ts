// The TCP listener: every accepted socket becomes a Connection of the broker core.

import { createServer, type Server, type Socket } from 'node:net';
import type { Broker } from '../broker/broker.js';

export interface TcpListenOptions {
  port: number;
  host?: string;
}

export function listenTcp(broker: Broker, options: TcpListenOptions): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    broker.handleConnection(socket);
  });
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      server.on('error', (error) => broker.logger.error('listener error', { error: error.message }));
      resolve(server);
    });
  });
}
