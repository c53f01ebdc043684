import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { type ApiRoute, connectionOf, GATEWAY_CONFIG, type GatewayConfig, routeUsesDpop, type TokenAudience } from '#sessiongate/config';
import { DpopNonceCache, dpopKeyOf, type StoredDpopKey } from '#sessiongate/dpop';
import { assertCsrfHeader } from '#sessiongate/http';
import { assertClaims, assertMethodAllowed, assertScope, BearerCallerAuthorizer, bearerTokenOf, hasConditions } from '#sessiongate/policy';
import {
  type AuthorizedRequest,
  type AuthorizeOptions,
  BearerCredential,
  type SessionLease,
  type UpgradeGrant,
  type UpgradeRequest,
  type UpstreamAuthorizer,
  type UpstreamCredential,
} from '#sessiongate/proxy';
import {
  type AccessToken,
  audienceKey,
  Clock,
  type Session,
  SessionCookieReader,
  SessionError,
  SessionErrorCode,
  SessionService,
  sessionKeyHash,
} from '#sessiongate/session';
import { assertRouteStepUp, StepUpError } from '#sessiongate/step-up';
import { AccessTokenService } from './access-token.service.js';
import { ClientTokenService } from './client-token.service.js';
import { DpopCredential } from './dpop.credential.js';
import { TokenExchangeService } from './token-exchange.service.js';
import type { ConnectedToken, ConnectedTokenSource } from './connected-token.source.js';

interface Grant {
  readonly credential: UpstreamCredential | undefined;
  readonly session: Session | null;
}

/**
 * Steps 4 to 7 of an /api request (docs/REQUEST-PIPELINE.md), after the route's methods: a bearer caller
 * on a `bearer` route (BearerCallerAuthorizer), else the CSRF header, the session where the route's
 * token mode or policy needs one, the route policy's claims, then its step-up (acr, maxAge: RFC 9470),
 * and the route's token as a credential (refused when it lacks the policy's scopes).
 */
@Injectable()
export class UserTokenAuthorizer implements UpstreamAuthorizer {
  /** The latest DPoP nonce each upstream origin asked for (RFC 9449 §9), shared by every session's proofs. */
  private readonly upstreamNonces = new DpopNonceCache();
  private connected: ConnectedTokenSource | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly sessions: SessionService,
    private readonly reader: SessionCookieReader,
    private readonly accessTokens: AccessTokenService,
    private readonly clientTokens: ClientTokenService,
    private readonly bearers: BearerCallerAuthorizer,
    private readonly exchanges: TokenExchangeService,
    private readonly clock: Clock,
  ) {}

  async authorize(request: AuthorizedRequest, route: ApiRoute, options?: AuthorizeOptions): Promise<UpstreamCredential | undefined> {
    assertMethodAllowed(route, request.method);
    const bearer = route.bearer === undefined ? undefined : bearerTokenOf(request.headers);
    if (route.bearer !== undefined && bearer !== undefined) {
      request.sessionPublicId = null;
      // Asked again after the upstream refused the caller's own token (whatever the options say why):
      // the gateway has nothing better to send, so the upstream's answer is passed on.
      if (options !== undefined) return undefined;
      return this.bearers.credentialFor(request.headers, route.bearer, route.require, bearer, route);
    }
    assertCsrfHeader(request.headers);
    // Asked again after the upstream's RFC 9470 challenge: the answer is the step-up, never another token.
    // The gateway's own (client) token has no user login to step up: its refusal is passed on as it is.
    if (options?.stepUp !== undefined) {
      if (route.token === 'client') return undefined;
      throw StepUpError.required(options.stepUp, 'the upstream asked for insufficient_user_authentication');
    }
    // A nonce challenge asks for the same token with a new proof (the credential remembered the nonce), not a new token.
    const { credential, session } = await this.grant(request.headers, route, options?.rejectedToken);
    request.sessionPublicId = session?.publicId ?? null;
    return credential;
  }

  /**
   * No X-CSRF here: a handshake cannot carry it, and the proxy has checked its Origin instead. Handshakes
   * take the session path only: a bearer caller's connection would outlive the token it opened with.
   */
  async authorizeUpgrade(request: UpgradeRequest, route: ApiRoute): Promise<UpgradeGrant> {
    assertMethodAllowed(route, request.method ?? 'GET');
    const { credential, session } = await this.grant(request.headers, route, undefined);
    return { credential, session: session ? this.lease(session) : undefined };
  }

  /** Where `connected:<name>` routes get their tokens: registered at start-up by the connections capability (which depends on this one). */
  useConnectedTokens(source: ConnectedTokenSource): void {
    this.connected = source;
  }

  watchSessions(changed: (key: string) => void): void {
    this.sessions.watchChanges(changed);
  }

  /**
   * The route's credential, and the session it belongs to when it is a user's. A route whose policy has
   * conditions needs a caller whatever its token mode: it reads the session, and refuses without one.
   */
  private async grant(headers: IncomingHttpHeaders, route: ApiRoute, rejectedToken: string | undefined): Promise<Grant> {
    const mode = route.token;
    const connection = connectionOf(mode);
    const policy = route.require;
    const needsCaller = mode === 'user' || mode === 'exchange' || connection !== undefined || hasConditions(policy);
    const session = needsCaller || mode === 'optional' ? await this.reader.sessionOf(headers) : null;
    // RFC 6750 §3: where a bearer token would do, the 401 says so.
    if (!session && needsCaller)
      throw new SessionError(SessionErrorCode.Unauthenticated, route.bearer ? { headers: { 'www-authenticate': 'Bearer' } } : {});
    // The route policy, after the session it judges and before a token is spent on it: the ID token's
    // claims first, then the login's userinfo claims (OIDC_FETCH_USERINFO) for a claim the ID token lacks.
    if (session && policy !== undefined) assertClaims(policy, session.userinfo ? [session.claims, session.userinfo] : [session.claims]);
    // Step-up after the claims: a caller the route refuses anyway is not sent to log in again first.
    if (session && mode === 'user') assertRouteStepUp(session.claims, route, this.clock.now());
    if (session && connection !== undefined) {
      // A third party's token (CONNECTIONS): its scope is what the user granted there when connecting.
      const connected = await this.connectedToken(session, connection, headers, rejectedToken);
      if (policy !== undefined && policy.scope.length > 0) assertScope(policy, new Set(connected.scopes.split(' ').filter(Boolean)));
      return { credential: new BearerCredential(connected.value), session };
    }
    let token: AccessToken | undefined;
    if (mode === 'client') token = await this.clientTokens.tokenFor(route, rejectedToken);
    else if (session && mode === 'exchange') token = await this.exchanges.tokenFor(session, route, rejectedToken);
    else if (session && mode !== 'none') {
      token = await this.accessTokens.tokenFor(session, route.audience, {
        rejectedToken,
        dpop: routeUsesDpop(this.config.oidc.dpop, route),
      });
    }
    // The scope is the token's, known once it is in hand; a token refused here is never sent.
    if (token !== undefined && policy !== undefined && policy.scope.length > 0)
      assertScope(policy, this.grantedScope(token, route.audience, mode === 'client' ? null : session));
    if (token === undefined) return { credential: undefined, session };
    const key = mode === 'client' ? this.clientTokens.dpopKey : session?.tokens.dpopKey;
    return { credential: this.credential(token, key), session };
  }

  /** RFC 9449 §7.1: a DPoP-bound token is only ever sent as DPoP, with a proof; the Bearer path makes nothing more. */
  private credential(token: AccessToken, key: StoredDpopKey | undefined): UpstreamCredential {
    if (token.type !== 'DPoP') return new BearerCredential(token.value);
    // The token was bound to this very key when it was obtained: its absence is a broken record, not a caller's fault.
    if (key === undefined) throw new Error('a DPoP-bound token without the DPoP key it is bound to');
    return new DpopCredential(token.value, dpopKeyOf(key), this.upstreamNonces);
  }

  /**
   * The token response's `scope`; without one, the scope requested (RFC 6749 §5.1), which for a request
   * that named none is the scope of the login's grant (§6), itself OIDC_SCOPES unless the login's response said.
   * A client token (`session` null) that named none has no scope the gateway can know of: none.
   */
  private grantedScope(token: AccessToken, audience: TokenAudience, session: Session | null): ReadonlySet<string> {
    const loginScope = session ? (session.tokens.accessTokens[audienceKey()]?.scope ?? this.config.oidc.scopes) : '';
    return new Set((token.scope ?? audience.scopes ?? loginScope).split(' ').filter(Boolean));
  }

  private connectedToken(
    session: Session,
    name: string,
    headers: IncomingHttpHeaders,
    rejectedToken: string | undefined,
  ): Promise<ConnectedToken> {
    // The configuration names only listed connections on routes, and the connections capability is part of every gateway.
    if (!this.connected) throw new Error(`no source of connected tokens for connected:${name}`);
    return this.connected.accessTokenFor(session, name, headers, rejectedToken);
  }

  /**
   * Checked by reading the session as a request would: an open WebSocket is activity, so it slides
   * the idle expiry like requests do; the absolute expiry still ends it.
   */
  private lease(session: Session): SessionLease {
    return {
      key: sessionKeyHash(session.id),
      expiresInMs: session.absoluteExpiresAt - this.clock.now(),
      isAlive: async () => (await this.sessions.read(session.id)) !== null,
    };
  }
}
