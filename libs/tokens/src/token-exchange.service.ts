import { Inject, Injectable } from '@nestjs/common';
import { type ApiRoute, GATEWAY_CONFIG, type GatewayConfig, routeUsesDpop } from '#sessiongate/config';
import { Telemetry } from '#sessiongate/observability';
import { OidcClient } from '#sessiongate/oidc';
import { hash } from 'node:crypto';
import { type AccessToken, audienceKey, Clock, type Session, SessionService, sessionKeyHash } from '#sessiongate/session';
import { AccessTokenService } from './access-token.service.js';
import { RefreshLock } from './refresh.lock.js';
import { writeSessionTokens } from './session-tokens.writer.js';
import { SingleFlight } from './single-flight.js';
import { isUsable } from './token-freshness.js';
import { tokenRequestParameters } from './token-request.js';
import { sessionExpired } from './tokens.errors.js';

/**
 * Routes in `exchange` mode (RFC 8693): the user's token (TOKEN_EXCHANGE_SUBJECT_TOKEN) exchanged at the
 * token endpoint for one meant for the route's resource, kept in the session (`exchangedTokens`, per
 * target) until it nears expiry, then exchanged again, the subject token refreshed first when it is due.
 * However many requests and instances need it, one exchange runs per session and target: single
 * flight, then a lock of the session's own for that target, then a re-read of the session. A refusal is
 * 403 `exchange_refused` (OidcError), and the session is kept.
 */
@Injectable()
export class TokenExchangeService {
  private readonly exchanges = new SingleFlight<AccessToken>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly oidc: OidcClient,
    private readonly sessions: SessionService,
    private readonly accessTokens: AccessTokenService,
    private readonly lock: RefreshLock,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
  ) {}

  async tokenFor(session: Session, route: Pick<ApiRoute, 'audience' | 'dpop'>, rejectedToken?: string): Promise<AccessToken> {
    const key = audienceKey(route.audience);
    const held = session.tokens.exchangedTokens?.[key];
    if (held && this.usable(held, rejectedToken)) return held;
    return this.exchanges.run(`${session.id} ${key}`, () =>
      this.lock.holdKey(exchangeLockName(session.id, key), async () => {
        const latest = await this.sessions.read(session.id, { fresh: true });
        if (!latest) throw sessionExpired('session ended while waiting for its token exchange');
        const current = latest.tokens.exchangedTokens?.[key];
        if (current && this.usable(current, rejectedToken)) return current;
        return this.exchange(latest, route, key);
      }),
    );
  }

  private usable(token: AccessToken, rejectedToken: string | undefined): boolean {
    return isUsable(token, rejectedToken, this.config.tokens.refreshSkewSeconds * 1000, this.clock.now());
  }

  private async exchange(session: Session, route: Pick<ApiRoute, 'audience' | 'dpop'>, key: string): Promise<AccessToken> {
    const dpop = routeUsesDpop(this.config.oidc.dpop, route);
    const { dpopKey } = session.tokens;
    if (dpop && !dpopKey) throw sessionExpired('the session holds no DPoP key (it predates OIDC_DPOP): log in again');
    const subjectType = this.config.tokens.exchangeSubjectTokenType;
    const subject = await this.subjectToken(session);
    const issued = await this.telemetry.tokenRequest('token_exchange', () =>
      this.oidc.exchangeToken(subject, subjectType, tokenRequestParameters(this.config, route.audience), dpop ? dpopKey : undefined),
    );
    const token: AccessToken = {
      value: issued.accessToken,
      expiresAt: issued.accessTokenExpiresAt,
      ...(issued.tokenType === 'DPoP' ? { type: 'DPoP' as const } : {}),
    };
    const written = await writeSessionTokens(this.sessions, session, (tokens) => ({
      ...tokens,
      exchangedTokens: { ...tokens.exchangedTokens, [key]: token },
    }));
    if (!written) throw sessionExpired('session ended while its token was being exchanged');
    return token;
  }

  /** The subject token, current: a due access token is refreshed first; an expired ID token is renewed by a refresh too. */
  private async subjectToken(session: Session): Promise<string> {
    if (this.config.tokens.exchangeSubjectTokenType === 'access_token') return (await this.accessTokens.tokenFor(session, {})).value;
    const exp = session.claims.exp;
    if (typeof exp === 'number' && exp * 1000 - this.config.tokens.refreshSkewSeconds * 1000 > this.clock.now())
      return session.tokens.idToken;
    // A refresh of the login token brings a new ID token (OIDC Core §12.2).
    await this.accessTokens.tokenFor(session, {}, { rejectedToken: session.tokens.accessTokens[audienceKey()]?.value });
    const renewed = await this.sessions.read(session.id, { fresh: true });
    if (!renewed) throw sessionExpired('session ended while its ID token was being renewed');
    return renewed.tokens.idToken;
  }
}

/** A lock of the session's own per exchange target, never the session's refresh lock (the hash of its id alone). */
function exchangeLockName(sessionId: string, target: string): string {
  return hash('sha256', `exchange\u0000${target}\u0000${sessionKeyHash(sessionId)}`, 'base64url');
}
