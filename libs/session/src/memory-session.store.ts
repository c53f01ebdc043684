import type { Clock } from './session.clock.js';
import { SessionStore, type StoredSession } from './session.store.js';

interface StoredLogin {
  readonly blob: string;
  readonly expiresAt: number;
}

interface HeldLock {
  readonly owner: string;
  readonly expiresAt: number;
}

/**
 * In-process store for development without Redis: lost on restart and not shared between
 * instances. Expiry follows the Clock exactly as the Redis store's TTLs and checks do.
 */
export class MemorySessionStore extends SessionStore {
  readonly kind = 'memory';
  private readonly sessions = new Map<string, StoredSession>();
  private readonly logins = new Map<string, StoredLogin>();
  private readonly locks = new Map<string, HeldLock>();

  constructor(private readonly clock: Clock) {
    super();
  }

  async touch(keyHash: string, idleTimeoutMs: number): Promise<StoredSession | null> {
    const now = this.clock.now();
    const record = this.liveSession(keyHash, now);
    if (!record) return null;
    const touched = { ...record, idleExpiresAt: Math.min(now + idleTimeoutMs, record.absoluteExpiresAt) };
    this.sessions.set(keyHash, touched);
    return touched;
  }

  async compareAndSet(keyHash: string, expectedVersion: number, record: StoredSession): Promise<boolean> {
    const now = this.clock.now();
    if ((this.liveSession(keyHash, now)?.version ?? 0) !== expectedVersion) return false;
    this.sweep(now);
    this.sessions.set(keyHash, record);
    return true;
  }

  async delete(keyHash: string): Promise<void> {
    this.sessions.delete(keyHash);
  }

  async putLogin(keyHash: string, blob: string, ttlMs: number): Promise<void> {
    const now = this.clock.now();
    this.sweep(now);
    this.logins.set(keyHash, { blob, expiresAt: now + ttlMs });
  }

  async takeLogin(keyHash: string): Promise<string | null> {
    const login = this.logins.get(keyHash);
    this.logins.delete(keyHash);
    return login && login.expiresAt > this.clock.now() ? login.blob : null;
  }

  async acquireLock(keyHash: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const held = this.locks.get(keyHash);
    if (held && held.expiresAt > now) return false;
    this.locks.set(keyHash, { owner, expiresAt: now + leaseMs });
    return true;
  }

  async renewLock(keyHash: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const held = this.locks.get(keyHash);
    if (!held || held.owner !== owner || held.expiresAt <= now) return false;
    this.locks.set(keyHash, { owner, expiresAt: now + leaseMs });
    return true;
  }

  async releaseLock(keyHash: string, owner: string): Promise<void> {
    if (this.locks.get(keyHash)?.owner === owner) this.locks.delete(keyHash);
  }

  async close(): Promise<void> {
    this.sessions.clear();
    this.logins.clear();
    this.locks.clear();
  }

  private liveSession(keyHash: string, now: number): StoredSession | undefined {
    const record = this.sessions.get(keyHash);
    if (record && isExpired(record, now)) this.sessions.delete(keyHash);
    return this.sessions.get(keyHash);
  }

  /** Expired entries that are never read again would otherwise stay forever. */
  private sweep(now: number): void {
    for (const [keyHash, record] of this.sessions) if (isExpired(record, now)) this.sessions.delete(keyHash);
    for (const [keyHash, login] of this.logins) if (login.expiresAt <= now) this.logins.delete(keyHash);
  }
}

function isExpired(record: StoredSession, now: number): boolean {
  return record.idleExpiresAt <= now || record.absoluteExpiresAt <= now;
}
