export type AuditFields = Readonly<Record<string, string>>;

/** At most this many audit events are kept (Redis: `XADD MAXLEN ~`). */
export const AUDIT_MAX_LENGTH = 10_000;

/** An event's place in the trail: a stream entry id (`<ms>-<seq>`), newest highest. Also the cursor of the next page. */
export const AUDIT_ENTRY_ID = /^\d{1,15}-\d{1,15}$/;

/** Which events a read keeps; every given field must hold. */
export interface AuditFilter {
  /** The event's `action` exactly (`revoke_session`, ...). */
  readonly action?: string;
  /** A user (`sub`) the event names: as actor (`<kind>:<sub>`), target (`user:<sub>`) or among its `users`. */
  readonly user?: string;
  /** `at` no earlier than this (epoch ms). */
  readonly from?: number;
  /** `at` no later than this (epoch ms). */
  readonly to?: number;
}

export interface AuditEntry {
  readonly id: string;
  readonly fields: AuditFields;
}

export interface AuditPage {
  /** Newest first. */
  readonly entries: readonly AuditEntry[];
  /** Pass back as `before` for the older events; absent when none is left. */
  readonly next: string | undefined;
}

/** Whether an event passes the filter: the one rule both stores apply. */
export function auditMatches(filter: AuditFilter, fields: AuditFields): boolean {
  if (filter.action !== undefined && fields.action !== filter.action) return false;
  if (filter.from !== undefined || filter.to !== undefined) {
    const at = Date.parse(fields.at ?? '');
    if (Number.isNaN(at) || (filter.from !== undefined && at < filter.from) || (filter.to !== undefined && at > filter.to)) return false;
  }
  if (filter.user !== undefined) {
    const { user } = filter;
    const actor = fields.actor ?? '';
    const named = fields.target === `user:${user}` || actor.slice(actor.indexOf(':') + 1) === user || auditUsers(fields).includes(user);
    if (!named) return false;
  }
  return true;
}

/** The `users` field: a JSON array of subs (a `sub` may hold any character, spaces included). */
export function auditUsers(fields: AuditFields): string[] {
  if (fields.users === undefined) return [];
  try {
    const users: unknown = JSON.parse(fields.users);
    return Array.isArray(users) ? users.filter((user): user is string => typeof user === 'string') : [];
  } catch {
    return [];
  }
}

/** The bounded trail of audit events, beside the log lines. Failures to reach the store throw SessionError `session_store_unavailable`. */
export abstract class AuditTrailStore {
  /** Appends an event to the bounded audit trail (AUDIT_MAX_LENGTH). */
  abstract append(fields: AuditFields): Promise<void>;

  /**
   * Up to `limit` events passing `filter`, newest first, older than the entry `before` when given
   * (a previous page's `next`, well-formed: AUDIT_ENTRY_ID). The trail is bounded, so a read scans
   * at most AUDIT_MAX_LENGTH entries whatever the filter.
   */
  abstract read(filter: AuditFilter, before: string | undefined, limit: number): Promise<AuditPage>;
}
