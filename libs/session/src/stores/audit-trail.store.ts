export type AuditFields = Readonly<Record<string, string>>;

/** At most this many audit events are kept (Redis: `XADD MAXLEN ~`). */
export const AUDIT_MAX_LENGTH = 10_000;

/** The bounded trail of audit events, beside the log lines. Failures to reach the store throw SessionError `session_store_unavailable`. */
export abstract class AuditTrailStore {
  /** Appends an event to the bounded audit trail (AUDIT_MAX_LENGTH). */
  abstract append(fields: AuditFields): Promise<void>;
}
