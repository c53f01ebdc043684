/** A session as the store keeps it: the version, expiry times and last use in plaintext beside the encrypted rest. */
export interface StoredSession {
  readonly version: number;
  readonly absoluteExpiresAt: number;
  readonly idleExpiresAt: number;
  /** Epoch ms of the last write of the idle expiry (so, to within the touch interval, the last request). */
  readonly lastSeenAt: number;
  /** SessionCipher blob of the SessionData. */
  readonly blob: string;
}

/** A version of a session and the digest of its blob (blobDigest), as a reader already holds them. */
export interface KnownBlob {
  readonly version: number;
  readonly digest: string;
}

/** What `touch` returns: the blob is absent only when the stored version and blob are the caller's `known` ones. */
export type TouchedSession = Omit<StoredSession, 'blob'> & { readonly blob: string | undefined };

/**
 * What a session is found by, each a keyed hash (SessionLookups) rather than the value itself: a
 * dump of the store names no user, provider session or public id.
 */
export interface SessionLookupKeys {
  readonly sub: string;
  readonly publicId: string;
  readonly idpSessionId: string | undefined;
}

/** A list of sessions to page through: all of them, a user's, or a provider session's. */
export type SessionIndex = { readonly by: 'all' } | { readonly by: 'sub' | 'idpSessionId'; readonly hash: string };

export interface IndexPage {
  /** The store keys (session key hashes) of live sessions, in index order. */
  readonly keyHashes: readonly string[];
  /** Opaque; absent on the last page. */
  readonly next: string | undefined;
}

export type AuditFields = Readonly<Record<string, string>>;

/** One hit counted in a fixed window: the hits so far in it, and how long until it resets. */
export interface HitCount {
  readonly hits: number;
  readonly resetsInMs: number;
}

export type SessionStoreKind = 'redis' | 'memory';

/** Told of sessions deleted or replaced, by this instance or any other (see InvalidationFeed). */
export interface InvalidationListener {
  /** This session was deleted or replaced: what is held of it is stale. */
  invalidated(keyHash: string): void;
  /** Invalidations may have been missed (the feed was cut): everything held is suspect. */
  reset(): void;
}

/**
 * Where a store announces every session it deletes or replaces, so that an instance may answer
 * reads from memory (SessionReadCache). The store's own changes are announced at once, other
 * instances' as the store delivers them.
 */
export interface InvalidationFeed {
  /** Starts delivering to `listener` (besides those already listening). */
  listen(listener: InvalidationListener): void;
  /**
   * True while every invalidation published up to a short, fixed time ago (the feed's heartbeat)
   * has been delivered: only then may a read be answered from memory.
   */
  readonly live: boolean;
}

/** At most this many audit events are kept (Redis: `XADD MAXLEN ~`). */
export const AUDIT_MAX_LENGTH = 10_000;

/**
 * Where sessions and pending logins live, keyed by the hash of their id. Every implementation has
 * the same semantics: a record whose idle or absolute expiry has passed (by the Clock) is gone, and
 * so is one whose TTL ran out. Failures to reach the store throw SessionError `session_store_unavailable`.
 *
 * Sessions are indexed (by user, by provider session, by public id, and all of them by absolute
 * expiry) before a create returns, and unindexed as they are deleted (Redis: in steps of their own,
 * after the session; see RedisSessionStore). An index may still list a session that expired on its
 * own or whose unindexing failed: listings check each entry and drop the dead ones as they go.
 */
export abstract class SessionStore {
  abstract readonly kind: SessionStoreKind;
  /** Undefined for a store that is itself as cheap to read as memory. */
  abstract readonly invalidations: InvalidationFeed | undefined;

  /**
   * Reads a session and slides its idle expiry to now + idleTimeoutMs, never past its absolute
   * expiry, in one atomic step, but writes it only when that moves it by more than `intervalMs` (or
   * brings it to the absolute expiry): a busy session costs one write per interval, not one per
   * request, and may end up to `intervalMs` before its idle timeout. An expired record is deleted
   * (with its index entries) and reads as null.
   *
   * `known` names the version and blob the caller already holds decrypted: when the stored ones are
   * those, a store may leave the blob out (undefined) to spare its transfer. Every other check
   * (missing, expired, idle slide) is made exactly as without it.
   */
  abstract touch(keyHash: string, idleTimeoutMs: number, intervalMs: number, known?: KnownBlob): Promise<TouchedSession | null>;

  /** Reads live sessions without touching them (admin views must not keep a session alive); null for each one gone. */
  abstract peek(keyHashes: readonly string[]): Promise<(StoredSession | null)[]>;

  /**
   * Writes `record` and its index entries if the stored version is `expectedVersion` (0: no live
   * record, i.e. a new session), with a TTL up to its idle expiry. False when another writer got
   * there first, or the session was deleted: a late write must never bring a logged-out session back.
   */
  abstract compareAndSet(keyHash: string, expectedVersion: number, record: StoredSession, lookup: SessionLookupKeys): Promise<boolean>;

  /** Deletes a session and its index entries in one step; returns what it held, or null if there was nothing. */
  abstract delete(keyHash: string): Promise<StoredSession | null>;

  /** The key hash of the session with this public id (a SessionLookups hash), or null. */
  abstract findByPublicId(publicIdHash: string): Promise<string | null>;

  /**
   * Up to `limit` live sessions of `index` after `cursor` (a previous page's `next`), ordered by
   * absolute expiry. Entries of sessions that have expired are removed on the way.
   */
  abstract page(index: SessionIndex, cursor: string | undefined, limit: number): Promise<IndexPage>;

  /** Appends an event to the bounded audit trail (AUDIT_MAX_LENGTH). */
  abstract appendAudit(fields: AuditFields): Promise<void>;

  /** Remembers a logout token id until `ttlMs` has passed; false when it was already remembered (a replay). */
  abstract rememberLogoutToken(jtiHash: string, ttlMs: number): Promise<boolean>;

  /** Forgets a logout token id whose logout could not be carried out, so the provider's retry is accepted. */
  abstract forgetLogoutToken(jtiHash: string): Promise<void>;

  abstract putLogin(keyHash: string, blob: string, ttlMs: number): Promise<void>;

  /** Returns and removes a pending login in one step, so it can be used only once. */
  abstract takeLogin(keyHash: string): Promise<string | null>;

  /** Takes the session's refresh lock for `owner` unless another owner holds it (SET NX PX). */
  abstract acquireLock(keyHash: string, owner: string, leaseMs: number): Promise<boolean>;

  /** Extends the lease while `owner` still holds the lock; false when it was lost. */
  abstract renewLock(keyHash: string, owner: string, leaseMs: number): Promise<boolean>;

  /** Releases the lock if `owner` still holds it (compare-and-delete: never another owner's lock). */
  abstract releaseLock(keyHash: string, owner: string): Promise<void>;

  /**
   * Counts a hit on `counterKey` (a keyed hash, never a raw client address) in one atomic step: the
   * first hit opens a window of `windowMs`, after which the counter is gone. Shared by every instance
   * on the store, so a rate limit holds however many instances there are.
   */
  abstract countHit(counterKey: string, windowMs: number): Promise<HitCount>;

  /** Throws SessionError `session_store_unavailable` unless the store answers (readiness). */
  abstract ping(): Promise<void>;

  abstract close(): Promise<void>;

  /** Sessions not past their absolute expiry, at a bounded cost whatever their number (for metrics). */
  abstract countSessions(): Promise<number>;

  /** Commands that failed to reach the store since it was opened (for metrics). */
  failures = 0;
}

/**
 * Whether a touch at `now` writes the idle expiry back (see SessionStore.touch): when that moves it
 * later by more than `intervalMs`, or, once, when it reaches the absolute expiry. The Redis script
 * makes the same decision in Lua.
 */
export function idleWriteDue(
  now: number,
  idleExpiresAt: number,
  absoluteExpiresAt: number,
  idleTimeoutMs: number,
  intervalMs: number,
): boolean {
  const target = Math.min(now + idleTimeoutMs, absoluteExpiresAt);
  return target - idleExpiresAt > intervalMs || (target === absoluteExpiresAt && idleExpiresAt < absoluteExpiresAt);
}

/**
 * An index entry: the absolute expiry, zero-padded so that entries sort by it as strings, then the
 * key hash. The Redis store builds the same string in Lua; a page cursor is the last entry seen.
 */
export function indexEntry(absoluteExpiresAt: number, keyHash: string): string {
  return `${String(absoluteExpiresAt).padStart(15, '0')}:${keyHash}`;
}

export const INDEX_CURSOR = /^\d{15}:[A-Za-z0-9_-]{43}$/;
