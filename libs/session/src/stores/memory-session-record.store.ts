import type { Clock } from '../session.clock.js';
import {
  idleWriteDue,
  type IndexPage,
  indexEntry,
  type SessionIndex,
  type SessionLookupKeys,
  SessionRecordStore,
  type StoredSession,
} from './session-record.store.js';

interface Entry {
  readonly record: StoredSession;
  readonly lookup: SessionLookupKeys;
}

/**
 * Sessions in this process, for development without Redis: lost on restart and not shared between
 * instances. Expiry follows the Clock exactly as the Redis store's TTLs and checks do. Its indexes
 * are scans of the one map (a development store holds a handful of sessions), so they cannot drift.
 */
export class MemorySessionRecordStore extends SessionRecordStore {
  readonly invalidations = undefined;
  private readonly sessions = new Map<string, Entry>();

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

  async count(): Promise<number> {
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
  }
}

function isExpired(record: StoredSession, now: number): boolean {
  return record.idleExpiresAt <= now || record.absoluteExpiresAt <= now;
}
