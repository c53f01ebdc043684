import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { assertCsrfHeader, CsrfError } from '#sessiongate/http';
import { type Session, SessionError, SessionErrorCode, SessionService } from '#sessiongate/session';
import { AdminConsoleCookies } from './admin-console.cookies.js';
import { AdminConsoleLoginService } from './admin-console-login.service.js';

/** The console session the guard found, for ConsoleSession: kept off the request object, as RouteGuard does. */
const OPERATOR_SESSIONS = new WeakMap<FastifyRequest, Session>();

/**
 * Every console call, in this order: same origin (an `Origin`, when sent, is the console's own, and
 * `Sec-Fetch-Site`, when sent, is `same-origin`: 403 `csrf`), `X-CSRF: 1` (403 `csrf`; no cross-origin
 * caller can send it, the console grants no CORS), a live console session (its own cookie; 401
 * `unauthenticated`), then ADMIN_CONSOLE_REQUIRE on the session's claims, again on every call
 * (403 `not_admin`). The gateway's own session cookie is never read here.
 */
@Injectable()
export class AdminConsoleGuard implements CanActivate {
  constructor(
    private readonly cookies: AdminConsoleCookies,
    private readonly sessions: SessionService,
    private readonly logins: AdminConsoleLoginService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const { origin } = request.headers;
    if (origin !== undefined && origin !== this.cookies.site.origin)
      throw new CsrfError(`Origin ${origin} is not the console's`, 'crossOrigin');
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') throw new CsrfError(`Sec-Fetch-Site: ${site}`, 'crossOrigin');
    assertCsrfHeader(request.headers);
    const id = this.cookies.sessionId(request.headers.cookie);
    const session = id ? await this.sessions.read(id) : null;
    request.sessionPublicId = session?.publicId ?? null;
    if (!session) throw new SessionError(SessionErrorCode.Unauthenticated);
    this.logins.assertAdmin(session);
    OPERATOR_SESSIONS.set(request, session);
    return true;
  }
}

/** The operator's console session, as AdminConsoleGuard read it. */
export const ConsoleSession = createParamDecorator(
  (_: unknown, context: ExecutionContext): Session => OPERATOR_SESSIONS.get(context.switchToHttp().getRequest<FastifyRequest>())!,
);
