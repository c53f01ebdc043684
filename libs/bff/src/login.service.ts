import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { newDpopKey } from '#sessiongate/dpop';
import { Telemetry } from '#sessiongate/observability';
import { grantedToken, OidcClient, OidcError, OidcErrorCode } from '#sessiongate/oidc';
import { audienceKey, Clock, type Session, SessionService } from '#sessiongate/session';
import { safeReturnTo } from './return-to.policy.js';

export interface StartedLogin {
  readonly loginId: string;
  readonly authorizationUrl: URL;
}

/** Where the login came from, kept with the session so that users and admins can tell sessions apart. */
export interface LoginClient {
  readonly userAgent: string | undefined;
  readonly ip: string | undefined;
}

/** A User-Agent is shown, not parsed: a bounded prefix is all a session needs to keep. */
const MAX_USER_AGENT_LENGTH = 256;

export interface CompletedLogin {
  readonly session: Session;
  readonly returnTo: string;
}

/** The authorization code flow with PKCE, state and nonce; the pending login lives server-side and is usable once. */
@Injectable()
export class LoginService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly oidc: OidcClient,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
  ) {}

  async start(returnTo: unknown): Promise<StartedLogin> {
    const dpopKey = this.needsDpopKey() ? await newDpopKey(this.config.oidc.dpopAlg) : undefined;
    const request = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier(), dpopKey };
    const loginId = await this.sessions.savePendingLogin({ ...request, returnTo: safeReturnTo(returnTo), createdAt: this.clock.now() });
    return { loginId, authorizationUrl: await this.oidc.authorizationUrl(this.loginBinding(request)) };
  }

  /**
   * A session holds a DPoP key when any of its tokens will be bound: made here, before the code
   * exchange, so that the code and the login token are bound to it from the start (RFC 9449 §10).
   */
  private needsDpopKey(): boolean {
    return this.config.oidc.dpop !== 'false' || this.config.routes.some((route) => route.dpop === true);
  }

  private loginBinding<T extends { readonly dpopKey?: unknown }>(request: T): T {
    return this.config.oidc.dpop === 'false' ? withoutKey(request) : request;
  }

  /** Always consumes the pending login, so a state can never be replayed, whatever the outcome. */
  async complete(
    loginId: string | undefined,
    parameters: URLSearchParams,
    client: LoginClient = { userAgent: undefined, ip: undefined },
  ): Promise<CompletedLogin> {
    const pending = loginId ? await this.sessions.takePendingLogin(loginId) : null;
    if (!pending) {
      throw new OidcError(OidcErrorCode.LoginExpired);
    }
    const states = parameters.getAll('state');
    if (states.length !== 1 || !sameString(states[0]!, pending.state)) {
      throw new OidcError(OidcErrorCode.InvalidState, {
        detail: states.length === 1 ? 'state mismatch' : `${states.length} state parameters`,
      });
    }
    this.oidc.checkAuthorizationResponse(parameters);
    const issued = await this.telemetry.tokenRequest('authorization_code', () =>
      this.oidc.exchangeCode(parameters, this.loginBinding(pending)),
    );
    const { claims, idToken } = issued;
    if (!claims || !idToken) throw new OidcError(OidcErrorCode.InvalidIdToken, { variant: 'missing' });
    const userinfo = await this.oidc.userinfo(issued.accessToken, claims.sub as string);
    const session = await this.sessions.create({
      sub: claims.sub as string,
      idpSessionId: typeof claims.sid === 'string' ? claims.sid : undefined,
      userAgent: client.userAgent?.slice(0, MAX_USER_AGENT_LENGTH),
      ip: client.ip,
      claims,
      userinfo,
      tokens: {
        idToken,
        refreshToken: issued.refreshToken,
        accessTokens: { [audienceKey()]: grantedToken(issued) },
        ...(pending.dpopKey ? { dpopKey: pending.dpopKey } : {}),
      },
      absoluteExpiresAt: issued.refreshTokenExpiresAt,
    });
    return { session, returnTo: pending.returnTo };
  }
}

/** The session's DPoP key goes to the provider with the login only when OIDC_DPOP binds the login token too. */
function withoutKey<T extends { readonly dpopKey?: unknown }>(request: T): T {
  const { dpopKey: _unbound, ...rest } = request;
  return rest as T;
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
