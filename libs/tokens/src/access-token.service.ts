import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { OidcClient, OidcError, OidcErrorCode } from '#sessiongate/oidc';
import { Clock, type Session, SessionService } from '#sessiongate/session';
import { sessionExpired } from './tokens.errors.js';

/**
 * Hands out a session's access token, refreshing it shortly before it expires (`expires_in` minus
 * TOKEN_REFRESH_SKEW; the token itself is opaque and never decoded).
 */
@Injectable()
export class AccessTokenService {
  /** In-process single flight: concurrent requests of one session share one refresh. */
  private readonly refreshing = new Map<string, Promise<Session>>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly oidc: OidcClient,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
  ) {}

  async accessTokenFor(session: Session): Promise<string> {
    if (!this.isDue(session)) return session.tokens.accessToken;
    let refresh = this.refreshing.get(session.id);
    if (!refresh) {
      refresh = this.refresh(session).finally(() => this.refreshing.delete(session.id));
      this.refreshing.set(session.id, refresh);
    }
    return (await refresh).tokens.accessToken;
  }

  private isDue(session: Session): boolean {
    return session.tokens.accessTokenExpiresAt - this.config.tokens.refreshSkewSeconds * 1000 <= this.clock.now();
  }

  private async refresh(session: Session): Promise<Session> {
    const { refreshToken } = session.tokens;
    if (!refreshToken) {
      await this.sessions.destroy(session.id);
      throw sessionExpired('access token expired and the session has no refresh token');
    }
    let issued;
    try {
      issued = await this.oidc.refresh(refreshToken, { sub: session.sub, iss: this.oidc.issuer });
    } catch (error) {
      if (error instanceof OidcError && error.oidcCode === OidcErrorCode.RefreshRejected) {
        await this.sessions.destroy(session.id);
        throw sessionExpired(error.detail ?? 'refresh rejected');
      }
      // The provider is down: a token that has not actually expired yet is still good to use.
      if (session.tokens.accessTokenExpiresAt > this.clock.now()) return session;
      throw error;
    }
    const updated = await this.sessions.replaceTokens(
      session,
      {
        accessToken: issued.accessToken,
        accessTokenExpiresAt: issued.accessTokenExpiresAt,
        refreshToken: issued.refreshToken ?? refreshToken,
        idToken: issued.idToken ?? session.tokens.idToken,
      },
      { claims: issued.claims, absoluteExpiresAt: issued.refreshTokenExpiresAt },
    );
    if (updated) return updated;
    // Logged out (or revoked) while the refresh ran: never write the session back.
    const current = await this.sessions.read(session.id);
    if (!current) throw sessionExpired('session ended while its tokens were being refreshed');
    return current;
  }
}
