// Public API of the `midge` package.
export { createBroker, MidgeBroker, type ListenOptions } from './server.js';
export { Broker } from './broker/broker.js';
export type { BrokerOptions, QueueFullPolicy } from './broker/options.js';
export type { BrokerHooks, ClientInfo } from './broker/hooks.js';
export type { Connection } from './broker/connection.js';
export { createLogger, type Logger, type LogLevel } from './broker/logger.js';
export type { Store, StoredMessage, StoredSession, StoredDelivery, StoredState } from './store/store.js';
export { MemoryStore } from './store/memory-store.js';
