import type { KnownBlob } from './session.store.js';
import type { SessionData } from './session.types.js';

/** Sessions whose decrypted data one instance keeps, at most (about 4 KB each: some 40 MB when full). */
export const READ_CACHE_ENTRIES = 10_000;

export interface HeldSession extends KnownBlob {
  readonly data: SessionData;
}

/**
 * The decrypted data of recently read sessions, by key hash, with the version and blob digest it was
 * decrypted from: a bounded LRU (a Map keeps insertion order, and a hit moves its entry to the end).
 *
 * It never answers on its own: a read still asks the store, which alone decides whether the session
 * exists and has not expired (so a revocation on any instance fails the very next request here). The
 * cache only spares the decrypt and parse when the store reports the very version and blob held here
 * (so it is a memo of openSession: it only ever returns data that decrypted under this key).
 */
export class SessionReadCache {
  private readonly entries = new Map<string, HeldSession>();

  constructor(private readonly capacity = READ_CACHE_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  /** What is held for this key, refreshed as most recently used. */
  get(keyHash: string): HeldSession | undefined {
    const held = this.entries.get(keyHash);
    if (!held) return undefined;
    this.entries.delete(keyHash);
    this.entries.set(keyHash, held);
    return held;
  }

  set(keyHash: string, entry: HeldSession): void {
    // Two reads of one session may finish out of order: never go back to an older version.
    const held = this.entries.get(keyHash);
    if (held && held.version > entry.version) return;
    this.entries.delete(keyHash);
    this.entries.set(keyHash, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(keyHash: string): void {
    this.entries.delete(keyHash);
  }
}
