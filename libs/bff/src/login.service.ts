import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { newDpopKey } from '#sessiongate/dpop';
import { Telemetry } from '#sessiongate/observability';
import { grantedToken, OidcClient, OidcError, OidcErrorCode } from '#sessiongate/oidc';
import { audienceKey, Clock, type NewSession, type Session, SessionService } from '#sessiongate/session';
import { satisfiesStepUp } from '#sessiongate/step-up';
import { authorizationParameters, isSilentLoginRefusal, type LoginParameters, returnToWithError } from './login-parameters.policy.js';
import { safeReturnTo } from './return-to.policy.js';
import { StepUpLogin } from './step-up-login.service.js';

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

/** A session made (or, for a step-up, replaced), or a silent login (`prompt=none`) the provider could not do. */
export type CompletedLogin =
  | { readonly session: Session; readonly returnTo: string }
  | { readonly session: undefined; readonly returnTo: string };

/** The authorization code flow with PKCE, state and nonce; the pending login lives server-side and is usable once. */
@Injectable()
export class LoginService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly oidc: OidcClient,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
    private readonly stepUp: StepUpLogin,
  ) {}

  /**
   * `current`: the caller's live session, if any. A login that asks for `acr_values` or `max_age` from
   * a live session is that session's step-up: it will replace it (see StepUpLogin).
   */
  async start(returnTo: unknown, parameters: LoginParameters = {}, current: Session | null = null): Promise<StartedLogin> {
    const dpopKey = this.needsDpopKey() ? await newDpopKey(this.config.oidc.dpopAlg) : undefined;
    const request = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier(), dpopKey };
    const stepsUp = current !== null && (parameters.acrValues !== undefined || parameters.maxAgeSeconds !== undefined);
    const loginId = await this.sessions.savePendingLogin({
      ...request,
      returnTo: safeReturnTo(returnTo),
      createdAt: this.clock.now(),
      ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
      ...(stepsUp ? { replaces: { publicId: current.publicId, sub: current.sub, iss: String(current.claims.iss) } } : {}),
    });
    return { loginId, authorizationUrl: await this.oidc.authorizationUrl(this.loginBinding(request), authorizationParameters(parameters)) };
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
    const asked = pending.parameters ?? {};
    try {
      this.oidc.checkAuthorizationResponse(parameters);
    } catch (error) {
      // A silent login the provider cannot do without the user goes back to the SPA, which may then log in visibly.
      const answer = parameters.get('error');
      if (asked.prompt === 'none' && error instanceof OidcError && error.code === OidcErrorCode.IdpError && isSilentLoginRefusal(answer)) {
        return { session: undefined, returnTo: returnToWithError(pending.returnTo, answer) };
      }
      throw error;
    }
    const issued = await this.telemetry.tokenRequest('authorization_code', () =>
      this.oidc.exchangeCode(parameters, this.loginBinding(pending), asked.maxAgeSeconds),
    );
    const { claims, idToken } = issued;
    if (!claims || !idToken) throw new OidcError(OidcErrorCode.InvalidIdToken, { variant: 'missing' });
    // acr_values is only a request (OIDC Core §3.1.2.1): a provider may answer with a weaker acr, which must not pass.
    if (asked.acrValues !== undefined && !satisfiesStepUp(claims, { acrValues: asked.acrValues }, this.clock.now())) {
      if (issued.refreshToken) await this.oidc.revoke(issued.refreshToken);
      throw new OidcError(OidcErrorCode.InvalidIdToken, { variant: 'acr', detail: 'ID token acr is not one of the requested acr_values' });
    }
    const userinfo = await this.oidc.userinfo(issued.accessToken, claims.sub as string);
    const data: NewSession = {
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
    };
    const session = pending.replaces
      ? await this.stepUp.replace(pending.replaces, data, issued.refreshToken)
      : await this.sessions.create(data);
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
