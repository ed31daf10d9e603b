// SCRAM-SHA-256 (RFC 5802, RFC 7677) as an MQTT 5 enhanced authentication method. The broker
// keeps only salted keys (StoredKey, ServerKey), never passwords; both sides prove they know
// the password without sending it. Channel binding is not offered (gs2 header 'n,,' or 'y,,').
//
// Not done: SASLprep normalisation of user names and passwords (ASCII credentials are exact).

import { Buffer } from 'node:buffer';
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { AuthExchange, AuthResult, Authenticator } from './authenticator.js';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';

export interface ScramCredential {
  /** base64 */
  salt: string;
  iterations: number;
  /** base64 of H(HMAC(SaltedPassword, "Client Key")) */
  storedKey: string;
  /** base64 of HMAC(SaltedPassword, "Server Key") */
  serverKey: string;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

export function createScramCredential(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): ScramCredential {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: sha256(hmac(salted, 'Client Key')).toString('base64'),
    serverKey: hmac(salted, 'Server Key').toString('base64'),
  };
}

export type ScramCredentials = Record<string, ScramCredential> | Map<string, ScramCredential>;

export function createScramAuthenticator(credentials: ScramCredentials): Authenticator {
  const lookup = (user: string): ScramCredential | undefined =>
    credentials instanceof Map ? credentials.get(user) : Object.hasOwn(credentials, user) ? credentials[user] : undefined;
  // An unknown user runs the same exchange against a throw-away credential, so the answer
  // does not reveal which user names exist.
  const decoy = createScramCredential(randomBytes(16).toString('hex'), 4096);
  return {
    method: SCRAM_SHA_256,
    begin: () => new ScramExchange(lookup, decoy),
  };
}

const refuse = (reason: string, reasonCode: number = ReasonCode.BadUserNameOrPassword): AuthResult => ({ kind: 'failure', reasonCode, reason });

class ScramExchange implements AuthExchange {
  private stage: 'first' | 'final' | 'done' = 'first';
  private user = '';
  private credential: ScramCredential | undefined;
  private known = false;
  private nonce = '';
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';

  constructor(
    private readonly lookup: (user: string) => ScramCredential | undefined,
    private readonly decoy: ScramCredential,
  ) {}

  next(data: Buffer | undefined): AuthResult {
    if (data === undefined) return refuse('SCRAM needs authentication data', ReasonCode.ProtocolError);
    const text = data.toString('utf8');
    if (this.stage === 'first') return this.first(text);
    if (this.stage === 'final') return this.final(text);
    return refuse('SCRAM exchange already finished', ReasonCode.ProtocolError);
  }

  private first(message: string): AuthResult {
    // client-first-message = gs2-header client-first-message-bare; gs2-header = "n,," | "y,,"
    const match = /^([ny]),(?:a=[^,]*)?,(n=[^,]*,r=[^,]+(?:,.*)?)$/.exec(message);
    if (match === null) return refuse('malformed SCRAM client-first-message', ReasonCode.MalformedPacket);
    this.gs2Header = message.slice(0, message.length - match[2].length);
    this.clientFirstBare = match[2];
    const attrs = parseAttributes(this.clientFirstBare);
    const user = attrs.get('n');
    const clientNonce = attrs.get('r');
    if (user === undefined || clientNonce === undefined || user.length === 0) return refuse('SCRAM user or nonce missing', ReasonCode.MalformedPacket);
    this.user = user.replace(/=2C/g, ',').replace(/=3D/g, '=');
    const credential = this.lookup(this.user);
    this.known = credential !== undefined;
    this.credential = credential ?? this.decoy;
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt},i=${this.credential.iterations}`;
    this.stage = 'final';
    return { kind: 'continue', data: Buffer.from(this.serverFirst) };
  }

  private final(message: string): AuthResult {
    this.stage = 'done';
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) return refuse('SCRAM proof missing', ReasonCode.MalformedPacket);
    const withoutProof = message.slice(0, proofAt);
    const attrs = parseAttributes(withoutProof);
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) return refuse('SCRAM channel binding mismatch');
    if (attrs.get('r') !== this.nonce) return refuse('SCRAM nonce mismatch');
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    const credential = this.credential!;
    const storedKey = Buffer.from(credential.storedKey, 'base64');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    if (proof.length !== clientSignature.length) return refuse('SCRAM proof has the wrong length');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    if (!timingSafeEqual(sha256(clientKey), storedKey) || !this.known) return refuse('bad user name or password');
    const serverSignature = hmac(Buffer.from(credential.serverKey, 'base64'), authMessage);
    return { kind: 'success', data: Buffer.from(`v=${serverSignature.toString('base64')}`), username: this.user };
  }
}

/** SCRAM attributes: comma-separated `k=value` pairs (values may contain '='). */
function parseAttributes(text: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) attrs.set(part[0], part.slice(2));
  }
  return attrs;
}
