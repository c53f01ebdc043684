import { Controller, Delete, Get, HttpCode, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { OidcClient } from '#sessiongate/oidc';
import { SessionCookies } from '#sessiongate/http';
import { CallerSession, pageQuery, Requires, type Session, SessionAudit, SessionDirectory } from '#sessiongate/session';
import { BffError, BffErrorCode } from './bff.errors.js';

/** A user has a handful of sessions: the first page is all of them in practice; a script may page through more. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

export interface UserSessionView {
  readonly id: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
  readonly userAgent: string | undefined;
  readonly ip: string | undefined;
  /** The session of the browser asking. */
  readonly current: boolean;
}

export interface UserSessionPage {
  readonly sessions: UserSessionView[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  readonly nextCursor: string | null;
}

/**
 * "Where am I logged in": the caller's own sessions, and ending one of them (e.g. a lost laptop).
 * Behind the CSRF header like every /bff call that acts on the session. Another user's session id
 * is answered exactly like an unknown one, so ids reveal nothing about other users.
 */
@Controller('bff')
@Requires({ csrf: true, session: 'required' })
export class SessionsController {
  constructor(
    private readonly directory: SessionDirectory,
    private readonly cookies: SessionCookies,
    private readonly audit: SessionAudit,
    private readonly oidc: OidcClient,
  ) {}

  /** Paged as the admin API's listing: `?limit=` (default 100, at most 500) and `?cursor=` from the previous `nextCursor`. */
  @Get('sessions')
  async list(@CallerSession() caller: Session, @Query('cursor') cursor: unknown, @Query('limit') limit: unknown): Promise<UserSessionPage> {
    const query = pageQuery(
      { cursor, limit },
      { defaultLimit: DEFAULT_LIMIT, maxLimit: MAX_LIMIT },
      (explanation) => new BffError(BffErrorCode.InvalidRequest, { explanation }),
    );
    const page = await this.directory.list({ sub: caller.sub, ...query });
    return {
      sessions: page.sessions.map((summary) => ({
        id: summary.publicId,
        createdAt: new Date(summary.createdAt).toISOString(),
        lastSeenAt: new Date(summary.lastSeenAt).toISOString(),
        expiresAt: new Date(Math.min(summary.idleExpiresAt, summary.absoluteExpiresAt)).toISOString(),
        userAgent: summary.userAgent,
        ip: summary.ip,
        current: summary.publicId === caller.publicId,
      })),
      nextCursor: page.nextCursor ?? null,
    };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  async end(@Param('id') id: string, @CallerSession() caller: Session, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const revoked = await this.directory.revokeByPublicId(id, { sub: caller.sub });
    if (!revoked) throw new BffError(BffErrorCode.SessionNotFound);
    if (revoked.refreshToken) await this.oidc.revoke(revoked.refreshToken);
    await this.audit.record({
      actor: `user:${caller.sub}`,
      action: 'end_own_session',
      target: `session:${id}`,
      sessions: [revoked.publicId],
    });
    if (id === caller.publicId) reply.header('set-cookie', this.cookies.clearSession());
  }
}
