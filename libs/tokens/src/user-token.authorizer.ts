import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ApiRoute } from '#sessiongate/config';
import type { UpstreamAuthorizer } from '#sessiongate/proxy';
import { assertCsrfHeader, SessionCookies, SessionError, SessionErrorCode, SessionService } from '#sessiongate/session';
import { AccessTokenService } from './access-token.service.js';

/** Decides what credential each proxied request carries: the CSRF header first, then the route's token mode. */
@Injectable()
export class UserTokenAuthorizer implements UpstreamAuthorizer {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: SessionCookies,
    private readonly accessTokens: AccessTokenService,
  ) {}

  async authorize(request: FastifyRequest, route: ApiRoute): Promise<string | undefined> {
    assertCsrfHeader(request.headers);
    if (route.token === 'none') return undefined;
    const id = this.cookies.sessionId(request.headers.cookie);
    const session = id ? await this.sessions.read(id) : null;
    if (!session) throw new SessionError(SessionErrorCode.Unauthenticated);
    return this.accessTokens.accessTokenFor(session);
  }
}
