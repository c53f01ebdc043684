import type { Clock } from './session.clock.js';
import {
  AUDIT_MAX_LENGTH,
  type AuditFields,
  type HitCount,
  idleWriteDue,
  type IndexPage,
  indexEntry,
  type SessionIndex,
  type SessionLookupKeys,
  SessionStore,
  type StoredSession,
} from './session.store.js';

interface Entry {
  readonly record: StoredSession;
  readonly lookup: SessionLookupKeys;
}

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
 * instances. Expiry follows the Clock exactly as the Redis store's TTLs and checks do. Its indexes
 * are scans of the one map (a development store holds a handful of sessions), so they cannot drift.
 */
export class MemorySessionStore extends SessionStore {
  readonly kind = 'memory';
  readonly invalidations = undefined;
  private readonly sessions = new Map<string, Entry>();
  private readonly logins = new Map<string, StoredLogin>();
  private readonly locks = new Map<string, HeldLock>();
  private readonly logoutTokens = new Map<string, number>();
  private readonly counters = new Map<string, { hits: number; resetsAt: number }>();
  private readonly audit: AuditFields[] = [];

  constructor(private readonly clock: Clock) {
    super();
  }

  // Always returns the blob (knownVersion is only a transfer saving, and nothing is transferred here).
  async touch(keyHash: string, idleTimeoutMs: number, intervalMs: number): Promise<StoredSession | null> {
    const now = this.clock.now();
    const entry = this.liveSession(keyHash, now);
    if (!entry) return null;
    const { idleExpiresAt, absoluteExpiresAt } = entry.record;
    if (!idleWriteDue(now, idleExpiresAt, absoluteExpiresAt, idleTimeoutMs, intervalMs)) return entry.record;
    const record = { ...entry.record, idleExpiresAt: Math.min(now + idleTimeoutMs, absoluteExpiresAt), lastSeenAt: now };
    this.sessions.set(keyHash, { ...entry, record });
    return record;
  }

  async peek(keyHashes: readonly string[]): Promise<(StoredSession | null)[]> {
    const now = this.clock.now();
    return keyHashes.map((keyHash) => this.liveSession(keyHash, now)?.record ?? null);
  }

  async compareAndSet(keyHash: string, expectedVersion: number, record: StoredSession, lookup: SessionLookupKeys): Promise<boolean> {
    const now = this.clock.now();
    if ((this.liveSession(keyHash, now)?.record.version ?? 0) !== expectedVersion) return false;
    this.sweep(now);
    this.sessions.set(keyHash, { record, lookup });
    return true;
  }

  async delete(keyHash: string): Promise<StoredSession | null> {
    const entry = this.sessions.get(keyHash);
    this.sessions.delete(keyHash);
    return entry?.record ?? null;
  }

  async findByPublicId(publicIdHash: string): Promise<string | null> {
    const now = this.clock.now();
    for (const keyHash of this.sessions.keys()) {
      if (this.liveSession(keyHash, now)?.lookup.publicId === publicIdHash) return keyHash;
    }
    return null;
  }

  async page(index: SessionIndex, cursor: string | undefined, limit: number): Promise<IndexPage> {
    const now = this.clock.now();
    const entries = [...this.sessions.keys()]
      .map((keyHash) => ({ keyHash, entry: this.liveSession(keyHash, now) }))
      .filter(
        ({ entry }) => entry && (index.by === 'all' || (index.by === 'sub' ? entry.lookup.sub : entry.lookup.idpSessionId) === index.hash),
      )
      .map(({ keyHash, entry }) => ({ keyHash, position: indexEntry(entry!.record.absoluteExpiresAt, keyHash) }))
      .filter(({ position }) => cursor === undefined || position > cursor)
      .sort((a, b) => (a.position < b.position ? -1 : 1));
    const page = entries.slice(0, limit);
    return { keyHashes: page.map(({ keyHash }) => keyHash), next: entries.length > limit ? page.at(-1)!.position : undefined };
  }

  async appendAudit(fields: AuditFields): Promise<void> {
    this.audit.push(fields);
    if (this.audit.length > AUDIT_MAX_LENGTH) this.audit.splice(0, this.audit.length - AUDIT_MAX_LENGTH);
  }

  async rememberLogoutToken(jtiHash: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    for (const [hash, expiresAt] of this.logoutTokens) if (expiresAt <= now) this.logoutTokens.delete(hash);
    if (this.logoutTokens.has(jtiHash)) return false;
    this.logoutTokens.set(jtiHash, now + ttlMs);
    return true;
  }

  async forgetLogoutToken(jtiHash: string): Promise<void> {
    this.logoutTokens.delete(jtiHash);
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

  async countHit(counterKey: string, windowMs: number): Promise<HitCount> {
    const now = this.clock.now();
    for (const [key, counter] of this.counters) if (counter.resetsAt <= now) this.counters.delete(key);
    const counter = this.counters.get(counterKey) ?? { hits: 0, resetsAt: now + windowMs };
    counter.hits++;
    this.counters.set(counterKey, counter);
    return { hits: counter.hits, resetsInMs: counter.resetsAt - now };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.sessions.clear();
    this.logins.clear();
    this.locks.clear();
    this.logoutTokens.clear();
    this.counters.clear();
  }

  async countSessions(): Promise<number> {
    const now = this.clock.now();
    return [...this.sessions.keys()].filter((keyHash) => this.liveSession(keyHash, now)).length;
  }

  private liveSession(keyHash: string, now: number): Entry | undefined {
    const entry = this.sessions.get(keyHash);
    if (entry && isExpired(entry.record, now)) this.sessions.delete(keyHash);
    return this.sessions.get(keyHash);
  }

  /** Expired entries that are never read again would otherwise stay forever. */
  private sweep(now: number): void {
    for (const [keyHash, entry] of this.sessions) if (isExpired(entry.record, now)) this.sessions.delete(keyHash);
    for (const [keyHash, login] of this.logins) if (login.expiresAt <= now) this.logins.delete(keyHash);
  }
}

function isExpired(record: StoredSession, now: number): boolean {
  return record.idleExpiresAt <= now || record.absoluteExpiresAt <= now;
}
