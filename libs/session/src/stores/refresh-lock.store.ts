/**
 * One lock per session (by the hash of its id), held by one owner at a time for a lease, shared by
 * every gateway instance on the store: only one of them refreshes a session's tokens at once.
 * Failures to reach the store throw SessionError `session_store_unavailable`.
 */
export abstract class RefreshLockStore {
  /** Takes the session's refresh lock for `owner` unless another owner holds it (SET NX PX). */
  abstract acquire(keyHash: string, owner: string, leaseMs: number): Promise<boolean>;

  /** Extends the lease while `owner` still holds the lock; false when it was lost. */
  abstract renew(keyHash: string, owner: string, leaseMs: number): Promise<boolean>;

  /** Releases the lock if `owner` still holds it (compare-and-delete: never another owner's lock). */
  abstract release(keyHash: string, owner: string): Promise<void>;
}
