import { Controller, Get, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { assertCsrfHeader, SessionCookies } from '#sessiongate/http';
import { SessionError, SessionErrorCode, SessionService } from '#sessiongate/session';

/** Claims that only mean something to the login exchange itself. */
const PROTOCOL_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash']);

export interface UserInfo {
  readonly claims: Record<string, unknown>;
  readonly session: { readonly expiresAt: string; readonly absoluteExpiresAt: string };
  readonly logoutUrl: string;
}

@Controller('bff')
export class UserController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: SessionCookies,
  ) {}

  @Get('user')
  async user(@Req() request: FastifyRequest): Promise<UserInfo> {
    assertCsrfHeader(request.headers);
    const id = this.cookies.sessionId(request.headers.cookie);
    const session = id ? await this.sessions.read(id) : null;
    request.sessionPublicId = session?.publicId ?? null;
    if (!session) throw new SessionError(SessionErrorCode.Unauthenticated);
    const claims = Object.fromEntries(Object.entries(session.claims).filter(([name]) => !PROTOCOL_CLAIMS.has(name)));
    return {
      claims,
      session: {
        expiresAt: new Date(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)).toISOString(),
        absoluteExpiresAt: new Date(session.absoluteExpiresAt).toISOString(),
      },
      logoutUrl: `/bff/logout?sid=${encodeURIComponent(session.publicId)}`,
    };
  }
}
