import type { Clock } from '../session.clock.js';
import { UserVaultStore, type VaultRecord } from './user-vault.store.js';

interface StoredRecord extends VaultRecord {
  readonly expiresAt: number;
}

/** The user vault in this process, expiring by the Clock as the Redis store's TTLs do. */
export class MemoryUserVaultStore extends UserVaultStore {
  private readonly records = new Map<string, StoredRecord>();

  constructor(private readonly clock: Clock) {
    super();
  }

  async get(userHash: string, name: string): Promise<VaultRecord | null> {
    return this.live(recordKey(userHash, name));
  }

  async put(userHash: string, name: string, blob: string, ttlMs: number, expectedVersion?: number): Promise<number | null> {
    const key = recordKey(userHash, name);
    const version = this.live(key)?.version ?? 0;
    if (expectedVersion !== undefined && version !== expectedVersion) return null;
    this.records.set(key, { version: version + 1, blob, expiresAt: this.clock.now() + ttlMs });
    return version + 1;
  }

  async delete(userHash: string, name: string, expectedVersion?: number): Promise<VaultRecord | null> {
    const key = recordKey(userHash, name);
    const record = this.live(key);
    if (!record || (expectedVersion !== undefined && record.version !== expectedVersion)) return null;
    this.records.delete(key);
    return { version: record.version, blob: record.blob };
  }

  private live(key: string): VaultRecord | null {
    const record = this.records.get(key);
    if (!record) return null;
    if (record.expiresAt > this.clock.now()) return { version: record.version, blob: record.blob };
    this.records.delete(key);
    return null;
  }
}

function recordKey(userHash: string, name: string): string {
  return `${userHash}\u0000${name}`;
}
