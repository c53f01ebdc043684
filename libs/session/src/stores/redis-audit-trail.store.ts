import { AUDIT_MAX_LENGTH, type AuditFields, AuditTrailStore } from './audit-trail.store.js';
import type { RedisStoreBackend } from './redis-store.backend.js';

/** The audit trail in Redis: the stream `sg:audit`, trimmed to about AUDIT_MAX_LENGTH events. */
export class RedisAuditTrailStore extends AuditTrailStore {
  constructor(private readonly backend: RedisStoreBackend) {
    super();
  }

  async append(fields: AuditFields): Promise<void> {
    await this.backend.run(() =>
      this.backend.redis.xadd('sg:audit', 'MAXLEN', '~', AUDIT_MAX_LENGTH, '*', ...Object.entries(fields).flat()),
    );
  }
}
