/** A session as the store keeps it: the version and expiry times in plaintext beside the encrypted rest. */
export interface StoredSession {
  readonly version: number;
  readonly absoluteExpiresAt: number;
  readonly idleExpiresAt: number;
  /** SessionCipher blob of the SessionData. */
  readonly blob: string;
}

export type SessionStoreKind = 'redis' | 'memory';

/**
 * Where sessions and pending logins live, keyed by the hash of their id. Every implementation has
 * the same semantics: a record whose idle or absolute expiry has passed (by the Clock) is gone, and
 * so is one whose TTL ran out. Failures to reach the store throw SessionError `session_store_unavailable`.
 */
export abstract class SessionStore {
  abstract readonly kind: SessionStoreKind;

  /**
   * Reads a session and slides its idle expiry to now + idleTimeoutMs, never past its absolute
   * expiry, in one atomic step. An expired record is deleted and reads as null.
   */
  abstract touch(keyHash: string, idleTimeoutMs: number): Promise<StoredSession | null>;

  /**
   * Writes `record` if the stored version is `expectedVersion` (0: no live record, i.e. a new
   * session), with a TTL up to its idle expiry. False when another writer got there first, or the
   * session was deleted: a late write must never bring a logged-out session back.
   */
  abstract compareAndSet(keyHash: string, expectedVersion: number, record: StoredSession): Promise<boolean>;

  abstract delete(keyHash: string): Promise<void>;

  abstract putLogin(keyHash: string, blob: string, ttlMs: number): Promise<void>;

  /** Returns and removes a pending login in one step, so it can be used only once. */
  abstract takeLogin(keyHash: string): Promise<string | null>;

  /** Takes the session's refresh lock for `owner` unless another owner holds it (SET NX PX). */
  abstract acquireLock(keyHash: string, owner: string, leaseMs: number): Promise<boolean>;

  /** Extends the lease while `owner` still holds the lock; false when it was lost. */
  abstract renewLock(keyHash: string, owner: string, leaseMs: number): Promise<boolean>;

  /** Releases the lock if `owner` still holds it (compare-and-delete: never another owner's lock). */
  abstract releaseLock(keyHash: string, owner: string): Promise<void>;

  abstract close(): Promise<void>;
}
