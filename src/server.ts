// The broker as a library: `createBroker()` composes the core with its listeners.
//   const broker = createBroker();
//   await broker.listen({ port: 1883 });
//   await broker.close();

import type { AddressInfo, Server } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { Broker } from './broker/broker.js';
import type { BrokerOptions } from './broker/options.js';
import { listenTcp } from './transport/tcp.js';
import type { TlsListenOptions } from './transport/tls.js';
import type { WebSocketListenOptions } from './transport/websocket.js';

export interface ListenOptions {
  port?: number;
  host?: string;
  /** Serve TCP connections as net.Socket rather than from their bare handle (see transport/tcp-handle.ts). */
  netSockets?: boolean;
}

export class MidgeBroker {
  readonly core: Broker;
  private readonly servers: Server[] = [];
  private readonly httpServers: HttpServer[] = [];
  private started: Promise<void> | undefined;

  constructor(options: BrokerOptions = {}) {
    this.core = new Broker(options);
  }

  /** Loads the stored state; listen() does it too, once. */
  start(): Promise<void> {
    this.started ??= this.core.start();
    return this.started;
  }

  /** Loads the stored state (once) and accepts MQTT over TCP. Resolves with the bound address. */
  listen(options: ListenOptions = {}): Promise<AddressInfo> {
    return this.serve(this.servers, () => listenTcp(this.core, { port: options.port ?? 1883, host: options.host, netSockets: options.netSockets }));
  }

  /** Accepts MQTT over TLS. */
  listenTls(options: TlsListenOptions): Promise<AddressInfo> {
    // TLS and WebSocket modules load only for brokers that use them (idle memory).
    return this.serve(this.servers, async () => (await import('./transport/tls.js')).listenTls(this.core, options));
  }

  /** Accepts MQTT over WebSocket (ws://host:port/ any path, or `path`). */
  listenWebSocket(options: WebSocketListenOptions): Promise<AddressInfo> {
    return this.serve(this.httpServers, async () => (await import('./transport/websocket.js')).listenWebSocket(this.core, options));
  }

  private async serve<S extends Server | HttpServer>(list: S[], open: () => Promise<S>): Promise<AddressInfo> {
    await this.start();
    const server = await open();
    list.push(server);
    return server.address() as AddressInfo;
  }

  /** Stops listening, closes every client, flushes and closes the store. */
  async close(): Promise<void> {
    // Stop accepting first; the listeners' close completes once the core has closed every client.
    const closed = [...this.servers, ...this.httpServers].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.servers.length = 0;
    this.httpServers.length = 0;
    await this.core.close();
    await Promise.all(closed);
  }
}

export function createBroker(options: BrokerOptions = {}): MidgeBroker {
  return new MidgeBroker(options);
}
