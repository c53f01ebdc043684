import { Controller, Delete, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ReportOutcome } from '#sessiongate/observability';
import { type AuditFilter, pageQuery, type RecordedAuditEvent, type Session, SessionAudit } from '#sessiongate/session';
import { booleanFlag, optionalString } from '../admin-sessions.controller.js';
import { AdminSessionsService } from '../admin-sessions.service.js';
import { AdminError, AdminErrorCode } from '../admin.errors.js';
import type { AdminSessionPageView, AdminSessionView, RevokedView } from '../admin.views.js';
import { CONSOLE_PATH } from './admin-console.routes.js';
import { AdminConsoleGuard, ConsoleSession } from './admin-console.guard.js';

const SESSION_LIMITS = { defaultLimit: 50, maxLimit: 500 };
const AUDIT_LIMITS = { defaultLimit: 50, maxLimit: 200 };
const ACTION = /^[a-z_]{1,64}$/;

export interface OperatorView {
  readonly sub: string;
  readonly name: string | undefined;
  readonly email: string | undefined;
  /** The console session's public id (never its cookie value). */
  readonly sessionId: string;
  readonly expiresAt: string;
}

export interface AuditPageView {
  readonly events: readonly RecordedAuditEvent[];
  readonly nextCursor: string | null;
}

/**
 * The console's JSON calls: the admin API's own services (AdminSessionsService, and SessionRevocation
 * behind it, so revocations are audited as `admin:<operator sub>`), authorised by the console session
 * (AdminConsoleGuard) instead of a bearer token. No token, cookie value or claim beyond the
 * operator's name and email is ever in an answer.
 */
@UseGuards(AdminConsoleGuard)
@Controller(`${CONSOLE_PATH.slice(1)}/api`)
export class AdminConsoleApiController {
  constructor(
    private readonly sessions: AdminSessionsService,
    private readonly audit: SessionAudit,
  ) {}

  @Get('me')
  me(@ConsoleSession() session: Session): OperatorView {
    const text = (claim: unknown) => (typeof claim === 'string' ? claim : undefined);
    return {
      sub: session.sub,
      name: text(session.claims.name),
      email: text(session.claims.email),
      sessionId: session.publicId,
      expiresAt: new Date(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)).toISOString(),
    };
  }

  /** `?sub=` a user, `?sid=` a provider session, both, or neither (every session); paged as the admin API. */
  @Get('sessions')
  list(
    @Query('sub') sub: unknown,
    @Query('sid') sid: unknown,
    @Query('cursor') cursor: unknown,
    @Query('limit') limit: unknown,
  ): Promise<AdminSessionPageView> {
    const page = pageQuery({ cursor, limit }, SESSION_LIMITS, invalid);
    return this.sessions.list(optionalString('sub', sub), page.cursor, page.limit, optionalString('sid', sid));
  }

  @Get('sessions/:id')
  get(@Param('id') id: string): Promise<AdminSessionView> {
    return this.sessions.get(id);
  }

  @Delete('sessions/:id')
  @ReportOutcome('admin_revoke_session')
  revoke(@Param('id') id: string, @ConsoleSession() operator: Session): Promise<RevokedView> {
    return this.sessions.revokeSession(principal(operator), id);
  }

  /** `?connections=true`: the user's `persist: user` connections end too, as with the admin API. */
  @Delete('users/:sub/sessions')
  @ReportOutcome('admin_revoke_user')
  revokeUser(
    @Param('sub') sub: string,
    @Query('connections') connections: unknown,
    @ConsoleSession() operator: Session,
  ): Promise<RevokedView> {
    return this.sessions.revokeUser(principal(operator), sub, booleanFlag('connections', connections));
  }

  /** The audit trail, newest first: `?action=`, `?user=` (a sub), `?from=` / `?to=` (ISO 8601), `?cursor=`, `?limit=`. */
  @Get('audit')
  async auditTrail(
    @Query('action') action: unknown,
    @Query('user') user: unknown,
    @Query('from') from: unknown,
    @Query('to') to: unknown,
    @Query('cursor') cursor: unknown,
    @Query('limit') limit: unknown,
  ): Promise<AuditPageView> {
    const page = pageQuery({ cursor, limit }, AUDIT_LIMITS, invalid);
    const filter: AuditFilter = {
      action: optionalString('action', action),
      user: optionalString('user', user),
      from: instant('from', from),
      to: instant('to', to),
    };
    if (filter.action !== undefined && !ACTION.test(filter.action)) throw invalid('action must be an event name such as revoke_session.');
    if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) throw invalid('from must not be after to.');
    const events = await this.audit.page(filter, page.cursor, page.limit);
    return { events: events.events, nextCursor: events.next ?? null };
  }
}

/** The operator as the admin services know callers: their `sub` names them in the audit trail. */
function principal(operator: Session): { subject: string; grants: ReadonlySet<string> } {
  return { subject: operator.sub, grants: new Set() };
}

function instant(name: string, value: unknown): number | undefined {
  const text = optionalString(name, value);
  if (text === undefined) return undefined;
  const at = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) throw invalid(`${name} must be an ISO 8601 date or date-time, e.g. 2026-12-04T18:00:00Z.`);
  return at;
}

function invalid(explanation: string): AdminError {
  return new AdminError(AdminErrorCode.InvalidRequest, { explanation });
}
