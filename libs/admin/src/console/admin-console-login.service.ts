import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
// See libs/bff/src/rate-limit.guard.ts: the package's entry point cannot be loaded under jest.
import { normalizeIp } from '@nestjs/throttler/dist/ip.js';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { LOGGER } from '#sessiongate/observability';
import { OidcClient, OidcError, OidcErrorCode } from '#sessiongate/oidc';
import { claimsFailure } from '#sessiongate/policy';
import { Clock, RateCounter, type Session, SessionService } from '#sessiongate/session';
import { AdminError, AdminErrorCode } from '../admin.errors.js';
import { CONSOLE_PATH } from './admin-console.routes.js';
import { AdminConsoleCookies } from './admin-console.cookies.js';

/** Where the login came from, kept with the console session as with any other. */
export interface ConsoleLoginClient {
  readonly userAgent: string | undefined;
  readonly ip: string | undefined;
}

const MAX_USER_AGENT_LENGTH = 256;

/**
 * The console's own code flow (PKCE, state, nonce; the pending login server-side, usable once), with
 * its own redirect URI, and ADMIN_CONSOLE_REQUIRE checked on the ID token before any session exists.
 * The console session is a gateway session like the user's (same store, indexes, revocation,
 * back-channel logout) holding no API credential: its refresh token, if the provider sends one, is
 * revoked at once and no access token is kept, so its cookie could never call an /api route.
 */
@Injectable()
export class AdminConsoleLoginService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly oidc: OidcClient,
    private readonly sessions: SessionService,
    private readonly cookies: AdminConsoleCookies,
    private readonly counter: RateCounter,
    private readonly clock: Clock,
  ) {}

  /** The same per-address limits as /bff/login and /bff/callback, counted apart. */
  async limit(endpoint: 'login' | 'callback', ip: string): Promise<void> {
    const limit = this.config.rateLimit[endpoint];
    if (limit === 0) return;
    const { windowMs } = this.config.rateLimit;
    const { hits, resetsInMs } = await this.counter.hit(`console-${endpoint}\u0000${normalizeIp(ip)}`, windowMs);
    if (hits > limit)
      throw new AdminError(AdminErrorCode.RateLimited, {
        detail: `console ${endpoint}: ${hits} requests in a window of ${windowMs} ms (limit ${limit})`,
        retryAfterSeconds: resetsInMs / 1000,
      });
  }

  async start(): Promise<{ loginId: string; authorizationUrl: URL }> {
    const request = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      redirectUri: this.cookies.site.redirectUri,
      // The console reads claims only: it asks for no refresh token (offline_access) and no API's scopes.
      scope: consoleScopes(this.config.oidc.scopes),
    };
    const loginId = await this.sessions.savePendingLogin({
      state: request.state,
      nonce: request.nonce,
      codeVerifier: request.codeVerifier,
      returnTo: CONSOLE_PATH,
      createdAt: this.clock.now(),
    });
    return { loginId, authorizationUrl: await this.oidc.authorizationUrl(request) };
  }

  /** Always consumes the pending login. Refused operators get 403 `not_admin` and no session. */
  async complete(loginId: string | undefined, parameters: URLSearchParams, from: ConsoleLoginClient): Promise<Session> {
    const pending = loginId ? await this.sessions.takePendingLogin(loginId) : null;
    if (!pending) throw new OidcError(OidcErrorCode.LoginExpired);
    const states = parameters.getAll('state');
    if (states.length !== 1 || !sameString(states[0]!, pending.state)) {
      throw new OidcError(OidcErrorCode.InvalidState, {
        detail: states.length === 1 ? 'state mismatch' : `${states.length} state parameters`,
      });
    }
    this.oidc.checkAuthorizationResponse(parameters);
    const issued = await this.oidc.exchangeCode(parameters, { ...pending, redirectUri: this.cookies.site.redirectUri });
    if (issued.refreshToken) await this.oidc.revoke(issued.refreshToken);
    const { claims, idToken } = issued;
    if (!claims || !idToken) throw new OidcError(OidcErrorCode.InvalidIdToken, { variant: 'missing' });
    const sub = claims.sub as string;
    // OIDC_FETCH_USERINFO: the condition may name a claim only userinfo carries, as route policies may.
    const userinfo = await this.oidc.userinfo(issued.accessToken, sub);
    this.assertAdmin({ sub, claims, userinfo });
    const { consoleSessionTimeoutSeconds } = this.config.admin!;
    const session = await this.sessions.create({
      sub,
      idpSessionId: typeof claims.sid === 'string' ? claims.sid : undefined,
      userAgent: from.userAgent?.slice(0, MAX_USER_AGENT_LENGTH),
      ip: from.ip,
      claims,
      userinfo,
      tokens: { idToken, accessTokens: {} },
      absoluteExpiresAt: this.clock.now() + consoleSessionTimeoutSeconds * 1000,
    });
    this.logger.info({ operator: sub, session: session.publicId }, 'admin console login');
    return session;
  }

  /**
   * 403 `not_admin` unless the claims meet ADMIN_CONSOLE_REQUIRE, judged by the route policies' own
   * evaluator (the ID token's claims, then userinfo's for a claim it lacks); the failing condition is
   * logged, never sent.
   */
  assertAdmin(operator: Pick<Session, 'sub' | 'claims' | 'userinfo'>): void {
    const sources = operator.userinfo ? [operator.claims, operator.userinfo] : [operator.claims];
    const policy = this.config.admin?.consoleRequire;
    // Fail closed: claimsFailure passes a missing policy, and the console is only mounted with one.
    const failure = policy ? claimsFailure(policy, sources) : 'ADMIN_CONSOLE_REQUIRE is unset';
    if (failure !== undefined) throw new AdminError(AdminErrorCode.NotAdmin, { detail: `${operator.sub}: ${failure}` });
  }
}

/** OIDC_SCOPES without offline_access (the console never refreshes), `openid` always. */
function consoleScopes(scopes: string): string {
  const kept = scopes.split(' ').filter((scope) => scope !== '' && scope !== 'offline_access');
  return [...new Set(['openid', ...kept])].join(' ');
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
