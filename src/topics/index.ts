// The topics layer: pure topic name/filter rules and the two topic tries (subscriptions, retained).
export { isValidTopicName, isValidTopicFilter, hasWildcard, parseSharedFilter } from './validate.js';
export type { SharedFilter } from './validate.js';
export { SubscriptionTree } from './subscription-tree.js';
export type { SubscriptionVisitor } from './subscription-tree.js';
export { TopicIndex } from './topic-index.js';
export type { TopicVisitor } from './topic-index.js';
