import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import * as client from 'openid-client';
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
    private readonly oidc: OidcClient,
    private readonly sessions: SessionService,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
  ) {}

  async start(returnTo: unknown): Promise<StartedLogin> {
    const request = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    const loginId = await this.sessions.savePendingLogin({ ...request, returnTo: safeReturnTo(returnTo), createdAt: this.clock.now() });
    return { loginId, authorizationUrl: await this.oidc.authorizationUrl(request) };
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
    const issued = await this.telemetry.tokenRequest('authorization_code', () => this.oidc.exchangeCode(parameters, pending));
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
      },
      absoluteExpiresAt: issued.refreshTokenExpiresAt,
    });
    return { session, returnTo: pending.returnTo };
  }
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
