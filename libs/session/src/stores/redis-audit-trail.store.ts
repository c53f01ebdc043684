import {
  AUDIT_MAX_LENGTH,
  type AuditEntry,
  type AuditFields,
  type AuditFilter,
  type AuditPage,
  AuditTrailStore,
  auditMatches,
} from './audit-trail.store.js';
import type { RedisStoreBackend } from './redis-store.backend.js';

/** Entries fetched per XREVRANGE while reading: a filter that matches little costs a few round trips over the bounded stream. */
const READ_BATCH = 500;

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

  /**
   * Newest first with XREVRANGE, filtered here: the stream cannot filter by field, and a time range
   * is the events' own `at` (the gateway's clock), not the entry ids (Redis's clock). The trimmed
   * stream holds a little more than AUDIT_MAX_LENGTH entries, which bounds the scan.
   */
  async read(filter: AuditFilter, before: string | undefined, limit: number): Promise<AuditPage> {
    const entries: AuditEntry[] = [];
    // `(id`: exclusive (Redis 6.2).
    let end = before === undefined ? '+' : `(${before}`;
    for (let scanned = 0; scanned < AUDIT_MAX_LENGTH * 2; scanned += READ_BATCH) {
      const batch = (await this.backend.run(() => this.backend.redis.xrevrange('sg:audit', end, '-', 'COUNT', READ_BATCH))) as [
        string,
        string[],
      ][];
      for (const [id, flat] of batch) {
        const fields: Record<string, string> = {};
        for (let index = 0; index + 1 < flat.length; index += 2) fields[flat[index]!] = flat[index + 1]!;
        if (!auditMatches(filter, fields)) continue;
        if (entries.length === limit) return { entries, next: entries[entries.length - 1]!.id };
        entries.push({ id, fields });
      }
      if (batch.length < READ_BATCH) break;
      end = `(${batch[batch.length - 1]![0]}`;
    }
    return { entries, next: undefined };
  }
}
