export type { InvalidationFeed, InvalidationListener } from './invalidation.feed.js';
export { createRedisConnection, type RedisConnection, type RedisConnectionOptions } from './redis-connection.js';
export { INVALIDATION_CHANNEL, RedisInvalidationFeed } from './redis-invalidation.feed.js';
export {
  type CountHitReply,
  type DeleteReply,
  type SessionReply,
  STORE_SCRIPTS,
  type StoreScripts,
  type TouchReply,
} from './store.scripts.js';
