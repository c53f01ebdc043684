import type { Clock } from '../session.clock.js';
import { UsedLogoutTokenStore } from './used-logout-token.store.js';

/** Used logout token ids in this process, forgotten by the Clock. */
export class MemoryUsedLogoutTokenStore extends UsedLogoutTokenStore {
  /** Until when (epoch ms) each id is remembered. */
  private readonly used = new Map<string, number>();

  constructor(private readonly clock: Clock) {
    super();
  }

  async remember(jtiHash: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    for (const [hash, expiresAt] of this.used) if (expiresAt <= now) this.used.delete(hash);
    if (this.used.has(jtiHash)) return false;
    this.used.set(jtiHash, now + ttlMs);
    return true;
  }

  async forget(jtiHash: string): Promise<void> {
    this.used.delete(jtiHash);
  }
}
