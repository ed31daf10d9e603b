// The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding, for testing
// MQTT 5.0 enhanced authentication: builds the client-first and client-final messages and checks
// the server's signature in server-final.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
/** gs2 header: no channel binding, no authzid. */
const GS2_HEADER = 'n,,';

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** RFC 5802 saslname: "=" and "," are escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** Parses "k=v,k=v" attributes (values may contain "="). */
export function parseScramAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) attributes.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return attributes;
}

export interface ServerFirst {
  nonce: string;
  salt: Buffer;
  iterations: number;
}

export class ScramClient {
  readonly clientNonce: string;
  private clientFirstBare: string;
  private serverFirstMessage: string | undefined;
  private expectedServerSignature: Buffer | undefined;

  constructor(
    readonly username: string,
    private readonly password: string,
    clientNonce = randomBytes(18).toString('base64'),
  ) {
    this.clientNonce = clientNonce;
    this.clientFirstBare = `n=${saslName(username)},r=${clientNonce}`;
  }

  /** client-first-message: `n,,n=<user>,r=<nonce>`. */
  clientFirst(): Buffer {
    return Buffer.from(GS2_HEADER + this.clientFirstBare, 'utf8');
  }

  /** Parses and checks server-first-message (the nonce must extend ours). */
  parseServerFirst(serverFirst: Buffer | string): ServerFirst {
    const text = serverFirst.toString();
    const attributes = parseScramAttributes(text);
    const nonce = attributes.get('r');
    const salt = attributes.get('s');
    const iterations = Number(attributes.get('i'));
    if (nonce === undefined || salt === undefined || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error(`malformed server-first-message: ${text}`);
    }
    if (!nonce.startsWith(this.clientNonce) || nonce.length <= this.clientNonce.length) {
      throw new Error(`server nonce ${nonce} does not extend the client nonce ${this.clientNonce}`);
    }
    this.serverFirstMessage = text;
    return { nonce, salt: Buffer.from(salt, 'base64'), iterations };
  }

  /** client-final-message `c=biws,r=<nonce>,p=<proof>` for the server-first-message received. */
  clientFinal(serverFirst: Buffer | string, password = this.password): Buffer {
    const { nonce, salt, iterations } = this.parseServerFirst(serverFirst);
    const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${this.serverFirstMessage},${withoutProof}`;
    const saltedPassword = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = sha256(clientKey);
    const clientSignature = hmac(storedKey, authMessage);
    const proof = xor(clientKey, clientSignature);
    const serverKey = hmac(saltedPassword, 'Server Key');
    this.expectedServerSignature = hmac(serverKey, authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** True when server-final-message `v=<signature>` proves the server knows the credential. */
  verifyServerFinal(serverFinal: Buffer | string | undefined): boolean {
    if (serverFinal === undefined || this.expectedServerSignature === undefined) return false;
    const v = parseScramAttributes(serverFinal.toString()).get('v');
    if (v === undefined) return false;
    const signature = Buffer.from(v, 'base64');
    return signature.length === this.expectedServerSignature.length && timingSafeEqual(signature, this.expectedServerSignature);
  }
}
