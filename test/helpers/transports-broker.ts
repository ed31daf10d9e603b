// A test broker that also listens for TLS (on a throw-away self-signed certificate for
// localhost and 127.0.0.1, made with openssl) and for WebSocket, each on a free loopback port.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type TestBroker } from './broker.js';

export interface TransportsBroker extends TestBroker {
  tlsPort: number;
  wsPort: number;
  /** The certificate (PEM) the TLS listener presents, for clients to trust. */
  certFile: string;
}

export async function startBrokerWithTransports(): Promise<TransportsBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'midge-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const b = await startBroker();
  const tlsPort = (await b.broker.listenTls({ port: 0, host: '127.0.0.1', certFile, keyFile })).port;
  const wsPort = (await b.broker.listenWebSocket({ port: 0, host: '127.0.0.1' })).port;
  return {
    ...b,
    tlsPort,
    wsPort,
    certFile,
    close: async () => {
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
