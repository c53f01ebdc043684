import type { RedisStoreBackend } from './redis-store.backend.js';
import { RefreshLockStore } from './refresh-lock.store.js';

/** Refresh locks in Redis: `sg:{<hash>}:lock` holds its owner's random token, with the lease as TTL. */
export class RedisRefreshLockStore extends RefreshLockStore {
  constructor(private readonly backend: RedisStoreBackend) {
    super();
  }

  async acquire(keyHash: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.backend.run(() => this.backend.redis.set(lockKey(keyHash), owner, 'PX', leaseMs, 'NX'))) === 'OK';
  }

  async renew(keyHash: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.backend.run(() => this.backend.redis.lockRenew(lockKey(keyHash), owner, leaseMs))) === 1;
  }

  async release(keyHash: string, owner: string): Promise<void> {
    await this.backend.run(() => this.backend.redis.lockRelease(lockKey(keyHash), owner));
  }
}

// Same hash tag as the session: one Cluster slot.
function lockKey(keyHash: string): string {
  return `sg:{${keyHash}}:lock`;
}
