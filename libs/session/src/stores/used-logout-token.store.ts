/**
 * The ids (keyed hashes) of logout tokens already used, each kept until the token could no longer be
 * accepted anyway. Failures to reach the store throw SessionError `session_store_unavailable`.
 */
export abstract class UsedLogoutTokenStore {
  /** Remembers a logout token id until `ttlMs` has passed; false when it was already remembered (a replay). */
  abstract remember(jtiHash: string, ttlMs: number): Promise<boolean>;

  /** Forgets a logout token id whose logout could not be carried out, so the provider's retry is accepted. */
  abstract forget(jtiHash: string): Promise<void>;
}
