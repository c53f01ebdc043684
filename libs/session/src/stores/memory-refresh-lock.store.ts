import type { Clock } from '../session.clock.js';
import { RefreshLockStore } from './refresh-lock.store.js';

interface HeldLock {
  readonly owner: string;
  readonly expiresAt: number;
}

/** Refresh locks in this process, their leases running out by the Clock. */
export class MemoryRefreshLockStore extends RefreshLockStore {
  private readonly locks = new Map<string, HeldLock>();

  constructor(private readonly clock: Clock) {
    super();
  }

  async acquire(keyHash: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const held = this.locks.get(keyHash);
    if (held && held.expiresAt > now) return false;
    this.locks.set(keyHash, { owner, expiresAt: now + leaseMs });
    return true;
  }

  async renew(keyHash: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const held = this.locks.get(keyHash);
    if (!held || held.owner !== owner || held.expiresAt <= now) return false;
    this.locks.set(keyHash, { owner, expiresAt: now + leaseMs });
    return true;
  }

  async release(keyHash: string, owner: string): Promise<void> {
    if (this.locks.get(keyHash)?.owner === owner) this.locks.delete(keyHash);
  }
}
