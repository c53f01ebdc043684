import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { type ApiRoute, GATEWAY_CONFIG, type GatewayConfig, routeUsesDpop } from '#sessiongate/config';
import { DpopNonceCache, dpopKeyOf, type StoredDpopKey } from '#sessiongate/dpop';
import { assertCsrfHeader } from '#sessiongate/http';
import {
  type AuthorizedRequest,
  type AuthorizeOptions,
  BearerCredential,
  type SessionLease,
  type UpgradeGrant,
  type UpstreamAuthorizer,
  type UpstreamCredential,
} from '#sessiongate/proxy';
import {
  type AccessToken,
  Clock,
  type Session,
  SessionCookieReader,
  SessionError,
  SessionErrorCode,
  SessionService,
  sessionKeyHash,
} from '#sessiongate/session';
import { AccessTokenService } from './access-token.service.js';
import { ClientTokenService } from './client-token.service.js';
import { DpopCredential } from './dpop.credential.js';
import { TokenExchangeService } from './token-exchange.service.js';

interface Grant {
  readonly credential: UpstreamCredential | undefined;
  readonly session: Session | null;
}

/**
 * Steps 4 to 7 of an /api request (docs/REQUEST-PIPELINE.md), in this order: the CSRF header, the session
 * where the route's token mode needs one, the route policy (to come), and the route's token as a credential.
 */
@Injectable()
export class UserTokenAuthorizer implements UpstreamAuthorizer {
  /** The latest DPoP nonce each upstream origin asked for (RFC 9449 §9), shared by every session's proofs. */
  private readonly upstreamNonces = new DpopNonceCache();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly sessions: SessionService,
    private readonly reader: SessionCookieReader,
    private readonly accessTokens: AccessTokenService,
    private readonly clientTokens: ClientTokenService,
    private readonly exchanges: TokenExchangeService,
    private readonly clock: Clock,
  ) {}

  async authorize(request: AuthorizedRequest, route: ApiRoute, options?: AuthorizeOptions): Promise<UpstreamCredential | undefined> {
    assertCsrfHeader(request.headers);
    // A nonce challenge asks for the same token with a new proof (the credential remembered the nonce), not a new token.
    const { credential, session } = await this.grant(request.headers, route, options?.rejectedToken);
    request.sessionPublicId = session?.publicId ?? null;
    return credential;
  }

  /** No X-CSRF here: a handshake cannot carry it, and the proxy has checked its Origin instead. */
  async authorizeUpgrade(request: IncomingMessage, route: ApiRoute): Promise<UpgradeGrant> {
    const { credential, session } = await this.grant(request.headers, route, undefined);
    return { credential, session: session ? this.lease(session) : undefined };
  }

  watchSessions(changed: (key: string) => void): void {
    this.sessions.watchChanges(changed);
  }

  /** The route's credential, and the session it belongs to when it is a user's. */
  private async grant(headers: IncomingHttpHeaders, route: ApiRoute, rejectedToken: string | undefined): Promise<Grant> {
    const mode = route.token;
    const session = mode === 'user' || mode === 'optional' || mode === 'exchange' ? await this.reader.sessionOf(headers) : null;
    if (!session && (mode === 'user' || mode === 'exchange')) throw new SessionError(SessionErrorCode.Unauthenticated);
    // The route policy (scopes, step-up) plugs in here: after the session it judges, before a token is spent on it.
    let token: AccessToken | undefined;
    if (mode === 'client') token = await this.clientTokens.tokenFor(route, rejectedToken);
    else if (session && mode === 'exchange') token = await this.exchanges.tokenFor(session, route, rejectedToken);
    else if (session) {
      token = await this.accessTokens.tokenFor(session, route.audience, {
        rejectedToken,
        dpop: routeUsesDpop(this.config.oidc.dpop, route),
      });
    }
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
