import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '#sessiongate/observability';
import { Clock } from './session.clock.js';
import { SessionError, SessionErrorCode } from './session.errors.js';
import { AUDIT_ENTRY_ID, type AuditFilter, AuditTrailStore, auditUsers } from './stores/audit-trail.store.js';

export interface AuditEvent {
  /** Who did it: `admin:<sub>`, `idp` (back-channel logout), `user:<sub>`, `cli:<os user>`. */
  readonly actor: string;
  /** What was done, e.g. `revoke_session`, `revoke_user_sessions`, `backchannel_logout`. */
  readonly action: string;
  /** What it was aimed at: `session:<public id>`, `user:<sub>`, `idp_session:<sid>`. */
  readonly target: string;
  /** Public ids of the sessions that were ended. */
  readonly sessions: readonly string[];
  /** The users (`sub`) whose sessions were ended, when the target does not name them (e.g. one session by its id). */
  readonly users?: readonly string[];
}

/** An event as read back from the trail, newest first. */
export interface RecordedAuditEvent extends Required<AuditEvent> {
  /** Its place in the trail: pass the last one's as `before` for older events. */
  readonly id: string;
  /** ISO 8601, the gateway's clock when it was recorded. */
  readonly at: string;
}

export interface AuditEventPage {
  readonly events: readonly RecordedAuditEvent[];
  /** Pass back as `before` for the next (older) page; absent on the last one. */
  readonly next: string | undefined;
}

/**
 * The audit trail of session revocations: one structured log line each (the durable record, shipped
 * with the logs), and the same event in the store (Redis stream `sg:audit`, bounded) for operators
 * who look there. Never a token or a cookie value: only who, what, which sessions and when.
 */
@Injectable()
export class SessionAudit {
  constructor(
    private readonly store: AuditTrailStore,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    const at = new Date(this.clock.now()).toISOString();
    this.logger.info({ audit: { ...event, at } }, `audit: ${event.action} ${event.target} by ${event.actor}`);
    try {
      await this.store.append({
        at,
        actor: event.actor,
        action: event.action,
        target: event.target,
        sessions: event.sessions.join(' '),
        ...(event.users === undefined ? {} : { users: JSON.stringify(event.users) }),
      });
    } catch (error) {
      // The revocation has happened and the log line is written: a store hiccup must not turn it into an error.
      this.logger.error(
        {
          code: error instanceof SessionError ? error.code : undefined,
          detail: error instanceof SessionError ? error.detail : String(error),
        },
        'audit event not stored',
      );
    }
  }

  /**
   * Recorded events passing `filter`, newest first, `limit` at a time. `before` is a previous page's
   * `next`; anything else is `invalid_cursor`. Entries written by other means than `record` read as
   * empty fields rather than failing the page.
   */
  async page(filter: AuditFilter, before: string | undefined, limit: number): Promise<AuditEventPage> {
    if (before !== undefined && !AUDIT_ENTRY_ID.test(before)) throw new SessionError(SessionErrorCode.InvalidCursor);
    const page = await this.store.read(filter, before, limit);
    return {
      events: page.entries.map(({ id, fields }) => ({
        id,
        at: fields.at ?? '',
        actor: fields.actor ?? '',
        action: fields.action ?? '',
        target: fields.target ?? '',
        sessions: (fields.sessions ?? '').split(' ').filter(Boolean),
        users: auditUsers(fields),
      })),
      next: page.next,
    };
  }
}
