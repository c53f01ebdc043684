import { Injectable } from '@nestjs/common';
import { SessionLookups } from './session.lookups.js';
import { UsedLogoutTokenStore } from './stores/used-logout-token.store.js';

/**
 * OIDC Back-Channel Logout 1.0 §2.6: a logout token must not be used twice. Remembers the tokens
 * used, by issuer and `jti`, in the store (shared by every instance); the store sees only their keyed hash.
 */
@Injectable()
export class LogoutTokenReplayGuard {
  constructor(
    private readonly store: UsedLogoutTokenStore,
    private readonly lookups: SessionLookups,
  ) {}

  /** Remembers a logout token's `jti` for `ttlMs`. False when it was already used. */
  remember(issuer: string, jti: string, ttlMs: number): Promise<boolean> {
    return this.store.remember(this.lookups.logoutTokenId(issuer, jti), ttlMs);
  }

  /** Forgets a token whose logout could not be carried out, so that the provider's retry is accepted. */
  forget(issuer: string, jti: string): Promise<void> {
    return this.store.forget(this.lookups.logoutTokenId(issuer, jti));
  }
}
