// The TLS listener (MQTT over TLS, usually port 8883): same Connection as TCP once the
// handshake is done.

import { readFileSync } from 'node:fs';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { Broker } from '../broker/broker.js';

export interface TlsListenOptions {
  port: number;
  host?: string;
  /** PEM certificate chain and private key: contents, or file paths when `certFile`/`keyFile` are used. */
  cert?: string | Buffer;
  key?: string | Buffer;
  certFile?: string;
  keyFile?: string;
  /** Ask clients for a certificate signed by this CA (mutual TLS). */
  ca?: string | Buffer;
  requireClientCertificate?: boolean;
}

export function listenTls(broker: Broker, options: TlsListenOptions): Promise<Server> {
  const cert = options.cert ?? (options.certFile !== undefined ? readFileSync(options.certFile) : undefined);
  const key = options.key ?? (options.keyFile !== undefined ? readFileSync(options.keyFile) : undefined);
  if (cert === undefined || key === undefined) throw new Error('TLS needs a certificate and a private key');
  const server = createServer(
    { cert, key, ca: options.ca, requestCert: options.requireClientCertificate === true, rejectUnauthorized: options.requireClientCertificate === true },
    (socket: TLSSocket) => {
      socket.setNoDelay(true);
      broker.handleConnection(socket);
    },
  );
  server.on('tlsClientError', (error) => broker.logger.debug('TLS handshake failed', { error: error.message }));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
