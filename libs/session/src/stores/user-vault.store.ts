/** A record in the vault: its version (1 on the first write, one more on each) and its encrypted blob. */
export interface VaultRecord {
  readonly version: number;
  readonly blob: string;
}

/**
 * Records that belong to a user rather than to one session (e.g. a connection kept across logins),
 * each an encrypted blob under (the keyed hash of the user's `sub`, a name), with a TTL. Failures to
 * reach the store throw SessionError `session_store_unavailable`.
 */
export abstract class UserVaultStore {
  abstract get(userHash: string, name: string): Promise<VaultRecord | null>;

  /**
   * Writes the blob with a TTL of `ttlMs` if the stored version is `expectedVersion` (0: none stored),
   * or whatever is stored when `expectedVersion` is undefined. The new version, or null when refused.
   */
  abstract put(userHash: string, name: string, blob: string, ttlMs: number, expectedVersion?: number): Promise<number | null>;

  /** Deletes the record if its version is `expectedVersion` (any when undefined); returns what it held, or null. */
  abstract delete(userHash: string, name: string, expectedVersion?: number): Promise<VaultRecord | null>;
}
