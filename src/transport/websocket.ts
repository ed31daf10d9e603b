// MQTT over WebSocket (MQTT 3.1.1 and 5.0 section 6): binary frames only, packets may span
// frames and frames may hold many packets, subprotocol "mqtt" (or 3.1's "mqttv3.1").

import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Broker } from '../broker/broker.js';
import type { Connection } from '../broker/connection.js';

export interface WebSocketListenOptions {
  port: number;
  host?: string;
  /** Only upgrade requests for this path (default: any path). */
  path?: string;
}

const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];
/** Above this many unsent bytes the broker treats the connection as congested. */
const DRAIN_THRESHOLD = 64 * 1024;

/** A WebSocket seen as a Connection: one frame per write (the client writes a turn's packets at once). */
class WebSocketConnection extends EventEmitter implements Connection {
  readonly remoteAddress: string | undefined;
  private waitingDrain = false;

  constructor(private readonly ws: WebSocket, remoteAddress: string | undefined) {
    super();
    this.remoteAddress = remoteAddress;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) {
        // [MQTT-6.0.0-1] anything but a binary frame closes the connection
        ws.terminate();
        return;
      }
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.emit('data', chunk);
    });
    ws.on('close', () => this.emit('close'));
    ws.on('error', (error) => this.emit('error', error));
  }

  get writableLength(): number {
    return this.ws.bufferedAmount;
  }

  write(bytes: Buffer): boolean {
    this.sendFrame(bytes);
    return this.ws.bufferedAmount < DRAIN_THRESHOLD;
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  end(): void {
    this.ws.close();
  }

  destroy(): void {
    this.ws.terminate();
  }

  private sendFrame(bytes: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount >= DRAIN_THRESHOLD) this.waitingDrain = true;
    this.ws.send(bytes, { binary: true }, this.afterSend);
  }

  private readonly afterSend = (): void => {
    if (this.waitingDrain && this.ws.bufferedAmount < DRAIN_THRESHOLD) {
      this.waitingDrain = false;
      this.emit('drain');
    }
  };
}

export function listenWebSocket(broker: Broker, options: WebSocketListenOptions): Promise<Server> {
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: upgrade required\n');
  });
  const wss = new WebSocketServer({
    server: http,
    path: options.path,
    // [MQTT-6.0.0-4] select the "mqtt" subprotocol
    handleProtocols: (protocols) => SUBPROTOCOLS.find((p) => protocols.has(p)) ?? false,
  });
  wss.on('connection', (ws, request) => {
    broker.handleConnection(new WebSocketConnection(ws, request.socket.remoteAddress));
  });
  http.on('close', () => wss.close());
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve(http);
    });
  });
}
