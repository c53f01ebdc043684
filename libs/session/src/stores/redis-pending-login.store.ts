import { PendingLoginStore } from './pending-login.store.js';
import type { RedisStoreBackend } from './redis-store.backend.js';

/** Pending logins in Redis: `sg:login:{<hash>}`, one string each, with the login's TTL. */
export class RedisPendingLoginStore extends PendingLoginStore {
  constructor(private readonly backend: RedisStoreBackend) {
    super();
  }

  async put(keyHash: string, blob: string, ttlMs: number): Promise<void> {
    await this.backend.run(() => this.backend.redis.set(loginKey(keyHash), blob, 'PX', ttlMs));
  }

  async take(keyHash: string): Promise<string | null> {
    return this.backend.run(() => this.backend.redis.getdel(loginKey(keyHash)));
  }
}

function loginKey(keyHash: string): string {
  return `sg:login:{${keyHash}}`;
}
