import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig, type TokenAudience } from '#sessiongate/config';
import { Telemetry } from '#sessiongate/observability';
import { grantedToken, type IssuedTokens, OidcClient, OidcError, OidcErrorCode } from '#sessiongate/oidc';
import { type AccessToken, audienceKey, Clock, type Session, SessionService } from '#sessiongate/session';
import { RefreshLock } from './refresh.lock.js';
import { SingleFlight } from './single-flight.js';
import { isUsable } from './token-freshness.js';
import { tokenRequestParameters } from './token-request.js';
import { sessionExpired } from './tokens.errors.js';

/**
 * Hands out a session's access token for an API, obtaining or refreshing it with the session's
 * refresh token shortly before it expires (`expires_in` minus TOKEN_REFRESH_SKEW; tokens are opaque
 * and never decoded). However many requests need it, on however many instances, one refresh runs:
 * in-process single flight, then the session's refresh lock, then a re-read of the session, since
 * another instance may have refreshed meanwhile. All of a session's refreshes, whatever the API,
 * run under that one lock: they share one rotating refresh token.
 */
@Injectable()
export class AccessTokenService {
  private readonly refreshes = new SingleFlight<AccessToken>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly oidc: OidcClient,
    private readonly sessions: SessionService,
    private readonly lock: RefreshLock,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
  ) {}

  /** `rejectedToken`: a token the API just refused; it is replaced even if it has not expired. */
  async accessTokenFor(session: Session, audience: TokenAudience, rejectedToken?: string): Promise<string> {
    return (await this.tokenFor(session, audience, rejectedToken)).value;
  }

  /** The same token with what the session knows of it: its expiry and, when the provider said, its granted scope. */
  async tokenFor(session: Session, audience: TokenAudience, rejectedToken?: string): Promise<AccessToken> {
    const key = audienceKey(audience);
    const held = session.tokens.accessTokens[key];
    if (held && this.usable(held, rejectedToken)) return held;
    return this.refreshes.run(`${session.id} ${key}`, () =>
      this.lock.hold(session.id, async () => {
        // From the store, never from memory: another instance may have just rotated the refresh token.
        const latest = await this.sessions.read(session.id, { fresh: true });
        if (!latest) throw sessionExpired('session ended while waiting for its refresh');
        const current = latest.tokens.accessTokens[key];
        if (current && this.usable(current, rejectedToken)) return current;
        return this.refresh(latest, audience, key, current);
      }),
    );
  }

  private usable(token: AccessToken, rejectedToken: string | undefined): boolean {
    return isUsable(token, rejectedToken, this.config.tokens.refreshSkewSeconds * 1000, this.clock.now());
  }

  private async refresh(session: Session, audience: TokenAudience, key: string, current: AccessToken | undefined): Promise<AccessToken> {
    const { refreshToken } = session.tokens;
    if (!refreshToken) {
      await this.sessions.end(session.id);
      throw sessionExpired('access token due and the session has no refresh token');
    }
    let issued: IssuedTokens;
    try {
      issued = await this.telemetry.tokenRequest('refresh_token', () =>
        this.oidc.refresh(refreshToken, { sub: session.sub, iss: this.oidc.issuer }, tokenRequestParameters(this.config, audience)),
      );
    } catch (error) {
      if (error instanceof OidcError && error.code === OidcErrorCode.RefreshRejected) {
        await this.sessions.end(session.id);
        throw sessionExpired(error.detail ?? 'refresh rejected');
      }
      // The provider is down: a token that has not actually expired yet is still good to use.
      if (current && current.expiresAt > this.clock.now()) return current;
      throw error;
    }
    const token = grantedToken(issued);
    const updated = await this.sessions.replaceTokens(
      session,
      {
        idToken: issued.idToken ?? session.tokens.idToken,
        // RFC 9700 §4.14: with rotation the old refresh token is spent; without, the provider sends none.
        refreshToken: issued.refreshToken ?? refreshToken,
        accessTokens: { ...session.tokens.accessTokens, [key]: token },
      },
      { claims: issued.claims, absoluteExpiresAt: issued.refreshTokenExpiresAt },
    );
    // Under the lock only a logout or revocation changes the session: never write it back.
    if (!updated) throw sessionExpired('session ended while its tokens were being refreshed');
    return token;
  }
}
