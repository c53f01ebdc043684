import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '#sessiongate/observability';
import { Clock } from './session.clock.js';
import { SessionError } from './session.errors.js';
import { AuditTrailStore } from './stores/audit-trail.store.js';

export interface AuditEvent {
  /** Who did it: `admin:<sub>`, `idp` (back-channel logout), `user:<sub>`, `cli:<os user>`. */
  readonly actor: string;
  /** What was done, e.g. `revoke_session`, `revoke_user_sessions`, `backchannel_logout`. */
  readonly action: string;
  /** What it was aimed at: `session:<public id>`, `user:<sub>`, `idp_session:<sid>`. */
  readonly target: string;
  /** Public ids of the sessions that were ended. */
  readonly sessions: readonly string[];
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
}
