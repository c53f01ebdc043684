import type { InvalidationFeed } from '#sessiongate/redis';

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

/**
 * Where sessions live, keyed by the hash of their id. Every implementation has the same semantics: a
 * record whose idle or absolute expiry has passed (by the Clock) is gone, and so is one whose TTL ran
 * out. Failures to reach the store throw SessionError `session_store_unavailable`.
 *
 * Sessions are indexed (by user, by provider session, by public id, and all of them by absolute
 * expiry) before a create returns, and unindexed as they are deleted (Redis: in steps of their own,
 * after the session; see RedisSessionRecordStore). An index may still list a session that expired on
 * its own or whose unindexing failed: listings check each entry and drop the dead ones as they go.
 */
export abstract class SessionRecordStore {
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

  /** Sessions not past their absolute expiry, at a bounded cost whatever their number (for metrics). */
  abstract count(): Promise<number>;
}

/**
 * Whether a touch at `now` writes the idle expiry back (see SessionRecordStore.touch): when that moves it
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
