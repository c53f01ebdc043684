import { AUDIT_MAX_LENGTH, type AuditFields, AuditTrailStore } from './audit-trail.store.js';

/** The audit trail in this process: the last AUDIT_MAX_LENGTH events. */
export class MemoryAuditTrailStore extends AuditTrailStore {
  private readonly events: AuditFields[] = [];

  async append(fields: AuditFields): Promise<void> {
    this.events.push(fields);
    if (this.events.length > AUDIT_MAX_LENGTH) this.events.splice(0, this.events.length - AUDIT_MAX_LENGTH);
  }
}
