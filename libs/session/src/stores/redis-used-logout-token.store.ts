import type { RedisStoreBackend } from './redis-store.backend.js';
import { UsedLogoutTokenStore } from './used-logout-token.store.js';

/** Used logout token ids in Redis: `sg:jti:{<j>}`, with the TTL they are remembered for. */
export class RedisUsedLogoutTokenStore extends UsedLogoutTokenStore {
  constructor(private readonly backend: RedisStoreBackend) {
    super();
  }

  async remember(jtiHash: string, ttlMs: number): Promise<boolean> {
    return (await this.backend.run(() => this.backend.redis.set(jtiKey(jtiHash), '1', 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async forget(jtiHash: string): Promise<void> {
    await this.backend.run(() => this.backend.redis.del(jtiKey(jtiHash)));
  }
}

function jtiKey(jtiHash: string): string {
  return `sg:jti:{${jtiHash}}`;
}
