import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig, type TokenAudience } from '#sessiongate/config';
import { Telemetry } from '#sessiongate/observability';
import { grantedToken, type IssuedTokens, OidcClient, OidcError, OidcErrorCode } from '#sessiongate/oidc';
import { type AccessToken, audienceKey, Clock, type Session, SessionService } from '#sessiongate/session';
import { RefreshLock } from './refresh.lock.js';
import { writeSessionTokens } from './session-tokens.writer.js';
import { SingleFlight } from './single-flight.js';
import { isUsable } from './token-freshness.js';
import { tokenRequestParameters } from './token-request.js';
import { sessionExpired } from './tokens.errors.js';

export interface TokenOptions {
  /** A token the API just refused: it is replaced even if it has not expired. */
  readonly rejectedToken?: string | undefined;
  /** Obtain the token DPoP-bound to the session's key (default: as OIDC_DPOP says). */
  readonly dpop?: boolean;
}

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
    return (await this.tokenFor(session, audience, { rejectedToken })).value;
  }

  /**
   * The token itself, with its type and, when the provider said, its granted scope: a `DPoP` one is only ever sent with a proof. `dpop` (default: as
   * OIDC_DPOP says): a token obtained here proves possession of the session's DPoP key.
   */
  async tokenFor(session: Session, audience: TokenAudience, options: TokenOptions = {}): Promise<AccessToken> {
    const { rejectedToken } = options;
    const dpop = options.dpop ?? this.config.oidc.dpop !== 'false';
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
        return this.refresh(latest, audience, key, current, dpop);
      }),
    );
  }

  private usable(token: AccessToken, rejectedToken: string | undefined): boolean {
    return isUsable(token, rejectedToken, this.config.tokens.refreshSkewSeconds * 1000, this.clock.now());
  }

  private async refresh(
    session: Session,
    audience: TokenAudience,
    key: string,
    current: AccessToken | undefined,
    dpop: boolean,
  ): Promise<AccessToken> {
    const { refreshToken, dpopKey } = session.tokens;
    if (!refreshToken) {
      await this.sessions.end(session.id);
      throw sessionExpired('access token due and the session has no refresh token');
    }
    // A session from before DPoP was turned on has no key to bind a token to: it must log in again.
    if (dpop && !dpopKey) throw sessionExpired('the session holds no DPoP key (it predates OIDC_DPOP): log in again');
    let issued: IssuedTokens;
    try {
      issued = await this.telemetry.tokenRequest('refresh_token', () =>
        this.oidc.refresh(
          refreshToken,
          { sub: session.sub, iss: this.oidc.issuer },
          tokenRequestParameters(this.config, audience),
          dpop ? dpopKey : undefined,
        ),
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
    // Under the lock only a token exchange (its own tokens) or a logout or revocation changes the session:
    // the first is merged with, the others are never written back.
    const updated = await writeSessionTokens(
      this.sessions,
      session,
      (tokens) => ({
        ...tokens,
        idToken: issued.idToken ?? tokens.idToken,
        // RFC 9700 §4.14: with rotation the old refresh token is spent; without, the provider sends none.
        refreshToken: issued.refreshToken ?? refreshToken,
        accessTokens: { ...tokens.accessTokens, [key]: token },
      }),
      { claims: issued.claims, absoluteExpiresAt: issued.refreshTokenExpiresAt },
    );
    if (!updated) throw sessionExpired('session ended while its tokens were being refreshed');
    return token;
  }
}
