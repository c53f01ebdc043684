import { hash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SessionCipher } from './session.cipher.js';
import { SessionLookups } from './session.lookups.js';
import { UserVaultStore } from './stores/user-vault.store.js';

/** A value held in the vault, with the version a conditional write or delete names. */
export interface Vaulted<T> {
  readonly version: number;
  readonly value: T;
}

/**
 * What a user keeps beyond any one session (a connection with `persist: user`): JSON values, encrypted
 * like sessions (SESSION_ENCRYPTION_KEY, bound to their record), under the keyed hash of the `sub` that
 * also names the user's session index (SessionLookups): a dump of Redis names no user. Versioned, so that
 * a writer who read an older value (a refresh racing a disconnect) cannot write it back.
 */
@Injectable()
export class UserVault {
  constructor(
    private readonly store: UserVaultStore,
    private readonly cipher: SessionCipher,
    private readonly lookups: SessionLookups,
  ) {}

  /** The value, or null when there is none or it cannot be decrypted (sealed with a key no longer configured). */
  async read<T>(sub: string, name: string): Promise<Vaulted<T> | null> {
    const userHash = this.lookups.sub(sub);
    const record = await this.store.get(userHash, name);
    return record && this.open<T>(userHash, name, record.version, record.blob);
  }

  /** Writes if the stored version is `expectedVersion` (0: none), or over anything when undefined; the new version, or null. */
  async write(sub: string, name: string, value: unknown, ttlMs: number, expectedVersion?: number): Promise<number | null> {
    const userHash = this.lookups.sub(sub);
    const blob = this.cipher.encrypt(JSON.stringify(value), associatedData(userHash, name));
    return this.store.put(userHash, name, blob, ttlMs, expectedVersion);
  }

  /** Deletes it (only at `expectedVersion`, when given); returns what it held, or null. */
  async delete<T>(sub: string, name: string, expectedVersion?: number): Promise<Vaulted<T> | null> {
    const userHash = this.lookups.sub(sub);
    const record = await this.store.delete(userHash, name, expectedVersion);
    return record && this.open<T>(userHash, name, record.version, record.blob);
  }

  /**
   * A name for a lock on one record (43 characters of base64url, like a session's key hash), keyed as the
   * record is: a lock held in Redis names no user either.
   */
  lockName(sub: string, name: string): string {
    return hash('sha256', `vault-lock\u0000${this.lookups.sub(sub)}\u0000${name}`, 'base64url');
  }

  private open<T>(userHash: string, name: string, version: number, blob: string): Vaulted<T> | null {
    try {
      return { version, value: JSON.parse(this.cipher.decrypt(blob, associatedData(userHash, name))) as T };
    } catch {
      return null;
    }
  }
}

// Bound to its record: a blob copied under another user or name does not decrypt.
function associatedData(userHash: string, name: string): string {
  return `vault:${userHash}:${name}`;
}
