import type { Clock } from '../session.clock.js';
import { PendingLoginStore } from './pending-login.store.js';

interface StoredLogin {
  readonly blob: string;
  readonly expiresAt: number;
}

/** Pending logins in this process, expiring by the Clock as the Redis store's TTLs do. */
export class MemoryPendingLoginStore extends PendingLoginStore {
  private readonly logins = new Map<string, StoredLogin>();

  constructor(private readonly clock: Clock) {
    super();
  }

  async put(keyHash: string, blob: string, ttlMs: number): Promise<void> {
    const now = this.clock.now();
    // Expired logins that are never taken would otherwise stay forever.
    for (const [hash, login] of this.logins) if (login.expiresAt <= now) this.logins.delete(hash);
    this.logins.set(keyHash, { blob, expiresAt: now + ttlMs });
  }

  async take(keyHash: string): Promise<string | null> {
    const login = this.logins.get(keyHash);
    this.logins.delete(keyHash);
    return login && login.expiresAt > this.clock.now() ? login.blob : null;
  }
}
