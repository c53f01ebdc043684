/**
 * Started logins, each an encrypted blob under the hash of its pre-login cookie value, kept until
 * the provider redirects back or their TTL runs out. Failures to reach the store throw SessionError
 * `session_store_unavailable`.
 */
export abstract class PendingLoginStore {
  abstract put(keyHash: string, blob: string, ttlMs: number): Promise<void>;

  /** Returns and removes a pending login in one step, so it can be used only once. */
  abstract take(keyHash: string): Promise<string | null>;
}
