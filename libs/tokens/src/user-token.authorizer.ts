import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ApiRoute } from '#sessiongate/config';
import { assertCsrfHeader } from '#sessiongate/http';
import type { AuthorizeOptions, SessionLease, UpgradeGrant, UpstreamAuthorizer } from '#sessiongate/proxy';
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

/** Decides what credential each proxied request carries: the CSRF header first, then the route's token mode. */
@Injectable()
export class UserTokenAuthorizer implements UpstreamAuthorizer {
  constructor(
    private readonly sessions: SessionService,
    private readonly reader: SessionCookieReader,
    private readonly accessTokens: AccessTokenService,
    private readonly clientTokens: ClientTokenService,
    private readonly clock: Clock,
  ) {}

  async authorize(request: FastifyRequest, route: ApiRoute, options?: AuthorizeOptions): Promise<string | undefined> {
    assertCsrfHeader(request.headers);
    const { token, session } = await this.grant(request.headers, route, options?.rejectedToken);
    request.sessionPublicId = session?.publicId ?? null;
    return token;
  }

  /** No X-CSRF here: a handshake cannot carry it, and the proxy has checked its Origin instead. */
  async authorizeUpgrade(request: IncomingMessage, route: ApiRoute): Promise<UpgradeGrant> {
    const { token, session } = await this.grant(request.headers, route, undefined);
    return { token, session: session ? this.lease(session) : undefined };
  }

  watchSessions(changed: (key: string) => void): void {
    this.sessions.watchChanges(changed);
  }

  /** The route's token, and the session it belongs to when it is a user's. */
  private async grant(
    headers: IncomingHttpHeaders,
    route: ApiRoute,
    rejectedToken: string | undefined,
  ): Promise<{ token: string | undefined; session: Session | null }> {
    switch (route.token) {
      case 'none':
        return { token: undefined, session: null };
      case 'client':
        return { token: await this.clientTokens.accessTokenFor(route.audience, rejectedToken), session: null };
      case 'optional': {
        const session = await this.reader.sessionOf(headers);
        return { token: session ? await this.accessTokens.accessTokenFor(session, route.audience, rejectedToken) : undefined, session };
      }
      case 'user': {
        const session = await this.reader.sessionOf(headers);
        if (!session) throw new SessionError(SessionErrorCode.Unauthenticated);
        return { token: await this.accessTokens.accessTokenFor(session, route.audience, rejectedToken), session };
      }
    }
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
