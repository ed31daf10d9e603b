// Public API of the `midge` package.
export { createBroker, MidgeBroker, type ListenOptions } from './server.js';
export { Broker } from './broker/broker.js';
export type { BrokerOptions, QueueFullPolicy, Redirect } from './broker/options.js';
export type { BrokerHooks, ClientInfo } from './broker/hooks.js';
export type { Connection } from './broker/connection.js';
export { createLogger, type Logger, type LogLevel } from './broker/logger.js';
export type { Store, StoredMessage, StoredSession, StoredDelivery, StoredState, StoredWill } from './store/store.js';
export { MemoryStore } from './store/memory-store.js';
export { SqliteStore } from './store/sqlite-store.js';
export { openStore, type OpenStoreOptions } from './store/open-store.js';
export type { Authenticator, AuthExchange, AuthResult } from './auth/authenticator.js';
export { createScramAuthenticator, createScramCredential, SCRAM_SHA_256, type ScramCredential } from './auth/scram.js';
export type { TlsListenOptions } from './transport/tls.js';
export type { WebSocketListenOptions } from './transport/websocket.js';
