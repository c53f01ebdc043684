import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { type ApiRoute, connectionOf } from '#sessiongate/config';
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
import type { ConnectedTokenSource } from './connected-token.source.js';

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
  private connected: ConnectedTokenSource | undefined;

  constructor(
    private readonly sessions: SessionService,
    private readonly reader: SessionCookieReader,
    private readonly accessTokens: AccessTokenService,
    private readonly clientTokens: ClientTokenService,
    private readonly clock: Clock,
  ) {}

  async authorize(request: AuthorizedRequest, route: ApiRoute, options?: AuthorizeOptions): Promise<UpstreamCredential | undefined> {
    assertCsrfHeader(request.headers);
    const { credential, session } = await this.grant(request.headers, route, options?.rejectedToken);
    request.sessionPublicId = session?.publicId ?? null;
    return credential;
  }

  /** No X-CSRF here: a handshake cannot carry it, and the proxy has checked its Origin instead. */
  async authorizeUpgrade(request: IncomingMessage, route: ApiRoute): Promise<UpgradeGrant> {
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

  /** The route's credential, and the session it belongs to when it is a user's. */
  private async grant(headers: IncomingHttpHeaders, route: ApiRoute, rejectedToken: string | undefined): Promise<Grant> {
    const mode = route.token;
    const connection = connectionOf(mode);
    const session = mode === 'user' || mode === 'optional' || connection !== undefined ? await this.reader.sessionOf(headers) : null;
    if (!session && mode !== 'optional' && mode !== 'client' && mode !== 'none') throw new SessionError(SessionErrorCode.Unauthenticated);
    // The route policy (scopes, step-up) plugs in here: after the session it judges, before a token is spent on it.
    const token =
      mode === 'client'
        ? await this.clientTokens.accessTokenFor(route.audience, rejectedToken)
        : session && connection !== undefined
          ? await this.connectedToken(session, connection, headers, rejectedToken)
          : session
            ? await this.accessTokens.accessTokenFor(session, route.audience, rejectedToken)
            : undefined;
    return { credential: token === undefined ? undefined : new BearerCredential(token), session };
  }

  private connectedToken(session: Session, name: string, headers: IncomingHttpHeaders, rejectedToken: string | undefined): Promise<string> {
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
