// The TCP listener: every accepted socket becomes a Connection of the broker core. A net.Server
// listens (addresses, IPv6, errors, close), but the sockets it accepts are served from their bare
// TCP handle (tcp-handle.ts) where this Node allows, not wrapped in a net.Socket.

import { createServer, type Server, type Socket } from 'node:net';
import type { Broker } from '../broker/broker.js';
import { ConnectionTracker, HandleConnection, isTcpHandle, tcpHandleSupport } from './tcp-handle.js';

export interface TcpListenOptions {
  port: number;
  host?: string;
  /** Serve connections as net.Socket even where bare handles are possible. */
  netSockets?: boolean;
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
      if (options.netSockets === true) broker.logger.info('TCP connections served as net.Socket, as asked');
      else takeConnections(server, broker);
      resolve(server);
    });
  });
}

/**
 * Replaces net's accept callback on the listening handle with one that hands the bare client
 * handle to the broker. Listening, closing and errors of the server stay net's. Where the
 * server's handle or the binding is not what tcp-handle.ts expects, net.Socket serves.
 */
function takeConnections(server: Server, broker: Broker): void {
  const listening = (server as unknown as { _handle?: { onconnection?: unknown } })._handle;
  if (listening === undefined || listening === null || typeof listening.onconnection !== 'function' || !tcpHandleSupport()) {
    broker.logger.info('TCP connections served as net.Socket (bare handles unavailable)');
    return;
  }
  const netAccept = listening.onconnection as (this: unknown, status: number, handle: unknown) => void;
  const tracker = new ConnectionTracker();
  listening.onconnection = function (this: unknown, status: number, handle: unknown): void {
    if (status < 0 || !isTcpHandle(handle)) {
      // An accept error (EMFILE, say), or a handle of another shape: net's own path reports it.
      netAccept.call(this, status, handle);
      return;
    }
    broker.handleConnection(new HandleConnection(handle, tracker));
  };
  // net.Server calls back from close() once its connections have ended; it does not know these,
  // so its close waits for them here, keeping that promise.
  const netClose = server.close.bind(server);
  server.close = (callback?: (error?: Error) => void): Server =>
    netClose((error?: Error) => {
      void tracker.idle().then(() => callback?.(error));
    });
}
