import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ApiRoute } from '#sessiongate/config';
import type { AuthorizeOptions, UpstreamAuthorizer } from '#sessiongate/proxy';
import { assertCsrfHeader, type Session, SessionCookies, SessionError, SessionErrorCode, SessionService } from '#sessiongate/session';
import { AccessTokenService } from './access-token.service.js';
import { ClientTokenService } from './client-token.service.js';

/** Decides what credential each proxied request carries: the CSRF header first, then the route's token mode. */
@Injectable()
export class UserTokenAuthorizer implements UpstreamAuthorizer {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: SessionCookies,
    private readonly accessTokens: AccessTokenService,
    private readonly clientTokens: ClientTokenService,
  ) {}

  async authorize(request: FastifyRequest, route: ApiRoute, options: AuthorizeOptions = {}): Promise<string | undefined> {
    assertCsrfHeader(request.headers);
    switch (route.token) {
      case 'none':
        return undefined;
      case 'client':
        return this.clientTokens.accessTokenFor(route.audience, options.rejectedToken);
      case 'optional': {
        const session = await this.session(request);
        return session ? this.accessTokens.accessTokenFor(session, route.audience, options.rejectedToken) : undefined;
      }
      case 'user': {
        const session = await this.session(request);
        if (!session) throw new SessionError(SessionErrorCode.Unauthenticated);
        return this.accessTokens.accessTokenFor(session, route.audience, options.rejectedToken);
      }
    }
  }

  private async session(request: FastifyRequest): Promise<Session | null> {
    const id = this.cookies.sessionId(request.headers.cookie);
    const session = id ? await this.sessions.read(id) : null;
    request.sessionPublicId = session?.publicId ?? null;
    return session;
  }
}
