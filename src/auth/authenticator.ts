// MQTT 5 enhanced authentication (section 4.12): a method named in CONNECT, then a series of
// AUTH packets until the broker accepts or refuses. Each method plugs in as an Authenticator;
// one exchange runs per (re-)authentication.

export type AuthResult =
  /** Send AUTH 0x18 (continue authentication) carrying `data`. */
  | { kind: 'continue'; data: Buffer }
  /** Accept: CONNACK 0x00, or AUTH 0x00 on re-authentication, carrying `data` if given. */
  | { kind: 'success'; data?: Buffer; username?: string }
  /** Refuse with this reason code (e.g. 0x86 bad user name or password, 0x87 not authorized). */
  | { kind: 'failure'; reasonCode: number; reason?: string };

export interface AuthExchange {
  /** Takes the client's authentication data (from CONNECT or AUTH) and says what to do next. */
  next(data: Buffer | undefined): AuthResult;
}

export interface Authenticator {
  /** The Authentication Method string clients name, e.g. 'SCRAM-SHA-256'. */
  readonly method: string;
  begin(): AuthExchange;
}
