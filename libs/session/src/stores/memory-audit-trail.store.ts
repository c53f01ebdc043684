import {
  AUDIT_MAX_LENGTH,
  type AuditEntry,
  type AuditFields,
  type AuditFilter,
  type AuditPage,
  AuditTrailStore,
  auditMatches,
} from './audit-trail.store.js';

/** The audit trail in this process: the last AUDIT_MAX_LENGTH events, with ids shaped like a stream's. */
export class MemoryAuditTrailStore extends AuditTrailStore {
  private readonly events: AuditEntry[] = [];
  private sequence = 0;

  async append(fields: AuditFields): Promise<void> {
    this.events.push({ id: `0-${++this.sequence}`, fields });
    if (this.events.length > AUDIT_MAX_LENGTH) this.events.splice(0, this.events.length - AUDIT_MAX_LENGTH);
  }

  async read(filter: AuditFilter, before: string | undefined, limit: number): Promise<AuditPage> {
    const beforeSequence = before === undefined ? Infinity : Number(before.slice(before.indexOf('-') + 1));
    const entries: AuditEntry[] = [];
    for (let position = this.events.length - 1; position >= 0; position--) {
      const entry = this.events[position]!;
      if (Number(entry.id.slice(2)) >= beforeSequence || !auditMatches(filter, entry.fields)) continue;
      if (entries.length === limit) return { entries, next: entries[entries.length - 1]!.id };
      entries.push(entry);
    }
    return { entries, next: undefined };
  }
}
