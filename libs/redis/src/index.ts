export type { InvalidationFeed, InvalidationListener } from './invalidation.feed.js';
export { createRedisConnection, duplicateConnection, type RedisConnection, type RedisConnectionOptions } from './redis-connection.js';
export { RedisInvalidationFeed } from './redis-invalidation.feed.js';
export { type SessionReply, STORE_SCRIPTS, type StoreScripts } from './store.scripts.js';
