import type { RedisStoreBackend } from './redis-store.backend.js';
import { UserVaultStore, type VaultRecord } from './user-vault.store.js';

/**
 * The user vault in Redis: `sg:vault:{<user hash>}:<name>`, a string `<version>:<blob>` with the record's
 * TTL (the user hash in braces puts all of a user's records in one Cluster slot). Versioned writes and
 * deletes are scripts (STORE_SCRIPTS), so a refresh finishing after a disconnect never writes back.
 */
export class RedisUserVaultStore extends UserVaultStore {
  constructor(private readonly backend: RedisStoreBackend) {
    super();
  }

  async get(userHash: string, name: string): Promise<VaultRecord | null> {
    return parsed(await this.backend.run(() => this.backend.redis.get(vaultKey(userHash, name))));
  }

  async put(userHash: string, name: string, blob: string, ttlMs: number, expectedVersion?: number): Promise<number | null> {
    const version = await this.backend.run(() =>
      this.backend.redis.vaultPut(vaultKey(userHash, name), expectedVersion === undefined ? '' : String(expectedVersion), blob, ttlMs),
    );
    return version === 0 ? null : version;
  }

  async delete(userHash: string, name: string, expectedVersion?: number): Promise<VaultRecord | null> {
    const key = vaultKey(userHash, name);
    return parsed(
      await this.backend.run(() => this.backend.redis.vaultDelete(key, expectedVersion === undefined ? '' : String(expectedVersion))),
    );
  }
}

function vaultKey(userHash: string, name: string): string {
  return `sg:vault:{${userHash}}:${name}`;
}

function parsed(value: string | null): VaultRecord | null {
  if (!value) return null;
  const colon = value.indexOf(':');
  return { version: Number(value.slice(0, colon)), blob: value.slice(colon + 1) };
}
