import { Injectable } from '@nestjs/common';
import { openSession } from './session-record.js';
import { SessionCipher } from './session.cipher.js';
import { SessionEndListeners } from './session-end.listeners.js';
import { Clock } from './session.clock.js';
import { SessionError, SessionErrorCode } from './session.errors.js';
import { SessionLookups } from './session.lookups.js';
import { INDEX_CURSOR, type SessionIndex, SessionRecordStore, type StoredSession } from './stores/session-record.store.js';
import type { RevokedSession, SessionData, SessionPage, SessionSummary } from './session.types.js';

export interface ListOptions {
  /** Only this user's sessions; all sessions without. */
  readonly sub?: string;
  /** Only the sessions opened in this provider session (its `sid`); with `sub` too, only that user's among them. */
  readonly idpSessionId?: string;
  /** A previous page's `nextCursor`. */
  readonly cursor?: string;
  readonly limit: number;
}

export interface OwnerFilter {
  /** Act only on a session of this user; another user's is treated as not found. */
  readonly sub?: string;
}

/** Page size used while revoking every session of an index. */
const REVOKE_BATCH = 100;

/**
 * Everyone's sessions, for operators, back-channel logout and "my sessions": found through the
 * store's indexes, never through a cookie, and never touched (looking does not keep a session alive).
 * Revoking deletes a session with its index entries in one step and hands back its refresh token,
 * which the caller revokes at the provider (this library does not talk to it); SessionEndListeners
 * hear of it first (third-party connections end with the session).
 */
@Injectable()
export class SessionDirectory {
  constructor(
    private readonly store: SessionRecordStore,
    private readonly cipher: SessionCipher,
    private readonly lookups: SessionLookups,
    private readonly clock: Clock,
    private readonly endings?: SessionEndListeners,
  ) {}

  async list(options: ListOptions): Promise<SessionPage> {
    if (options.cursor !== undefined && !INDEX_CURSOR.test(options.cursor)) throw new SessionError(SessionErrorCode.InvalidCursor);
    const index: SessionIndex =
      options.idpSessionId !== undefined
        ? { by: 'idpSessionId', hash: this.lookups.idpSessionId(options.idpSessionId) }
        : options.sub === undefined
          ? { by: 'all' }
          : { by: 'sub', hash: this.lookups.sub(options.sub) };
    const page = await this.store.page(index, options.cursor, options.limit);
    const records = await this.store.peek(page.keyHashes);
    let unreadable = 0;
    const sessions = page.keyHashes.flatMap((keyHash, position) => {
      const record = records[position] ?? null;
      const summary = this.summary(keyHash, record);
      if (record && !summary && !this.readable(keyHash, record)) unreadable++;
      // An index entry is a keyed hash, but the decrypted data decides (as revoke does).
      const wanted =
        summary &&
        (options.idpSessionId === undefined || summary.idpSessionId === options.idpSessionId) &&
        (options.sub === undefined || summary.sub === options.sub);
      return wanted ? [summary] : [];
    });
    return { sessions, nextCursor: page.next, unreadable };
  }

  async find(publicId: string, filter: OwnerFilter = {}): Promise<SessionSummary | null> {
    const keyHash = await this.store.findByPublicId(this.lookups.publicId(publicId));
    if (!keyHash) return null;
    const [record] = await this.store.peek([keyHash]);
    const summary = this.summary(keyHash, record ?? null);
    // A public id is random and can only be looked up, so a mismatch here is a foreign id, not a collision.
    return summary && summary.publicId === publicId && (filter.sub === undefined || summary.sub === filter.sub) ? summary : null;
  }

  /** Ends one session; null when there is none with this public id (or it is another user's, given `filter.sub`). */
  /**
   * `replaced`: the session goes on under a new id (a step-up): SessionEndListeners are not told, and what
   * they would have ended (its `connections`) is the caller's to carry over.
   */
  async revokeByPublicId(
    publicId: string,
    filter: OwnerFilter = {},
    options: { readonly replaced?: boolean } = {},
  ): Promise<RevokedSession | null> {
    const keyHash = await this.store.findByPublicId(this.lookups.publicId(publicId));
    if (!keyHash) return null;
    return this.revoke(
      keyHash,
      (data) => data.publicId === publicId && (filter.sub === undefined || data.sub === filter.sub),
      options.replaced !== true,
    );
  }

  /** Ends every session of a user. */
  async revokeBySub(sub: string): Promise<RevokedSession[]> {
    return this.revokeAll({ by: 'sub', hash: this.lookups.sub(sub) }, (data) => data.sub === sub);
  }

  /** Ends every session opened in this provider session (its `sid`), only those of `filter.sub` when given. */
  async revokeByIdpSessionId(sid: string, filter: OwnerFilter = {}): Promise<RevokedSession[]> {
    const index: SessionIndex = { by: 'idpSessionId', hash: this.lookups.idpSessionId(sid) };
    return this.revokeAll(index, (data) => data.idpSessionId === sid && (filter.sub === undefined || data.sub === filter.sub));
  }

  private async revokeAll(index: SessionIndex, matches: (data: SessionData) => boolean): Promise<RevokedSession[]> {
    const revoked: RevokedSession[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.page(index, cursor, REVOKE_BATCH);
      for (const keyHash of page.keyHashes) {
        const session = await this.revoke(keyHash, matches);
        if (session) revoked.push(session);
      }
      cursor = page.next;
    } while (cursor !== undefined);
    return revoked;
  }

  /**
   * Checks what the session is before deleting it (an index entry is only a hint: keyed hashes can
   * be trusted, but the decrypted data is what decides), then deletes it and its index entries.
   */
  private async revoke(keyHash: string, matches: (data: SessionData) => boolean, ended = true): Promise<RevokedSession | null> {
    const [record] = await this.store.peek([keyHash]);
    const data = record ? this.open(keyHash, record) : null;
    if (!data || !matches(data)) return null;
    const deleted = await this.store.delete(keyHash);
    // Deleted meanwhile (logged out, expired, revoked by someone else): nothing of ours to report.
    if (!deleted) return null;
    const final = this.open(keyHash, deleted) ?? data;
    if (ended) await this.endings?.ended(final);
    return { publicId: final.publicId, sub: final.sub, refreshToken: final.tokens.refreshToken, connections: final.connections };
  }

  private summary(keyHash: string, record: StoredSession | null): SessionSummary | null {
    const data = record && this.open(keyHash, record);
    if (!record || !data) return null;
    return {
      publicId: data.publicId,
      sub: data.sub,
      idpSessionId: data.idpSessionId,
      createdAt: data.createdAt,
      lastSeenAt: record.lastSeenAt,
      idleExpiresAt: record.idleExpiresAt,
      absoluteExpiresAt: data.absoluteExpiresAt,
      userAgent: data.userAgent,
      ip: data.ip,
      hasRefreshToken: data.tokens.refreshToken !== undefined,
      accessTokens: Object.entries(data.tokens.accessTokens).map(([audienceKey, token]) => ({ audienceKey, expiresAt: token.expiresAt })),
      connections: Object.keys(data.connections ?? {}),
    };
  }

  private readable(keyHash: string, record: StoredSession): boolean {
    try {
      openSession(this.cipher, keyHash, record.blob);
      return true;
    } catch {
      return false;
    }
  }

  /** The session's data, or null when it cannot be read or its (authoritative, encrypted) absolute expiry has passed. */
  private open(keyHash: string, record: StoredSession): SessionData | null {
    try {
      const data = openSession(this.cipher, keyHash, record.blob);
      return data.absoluteExpiresAt > this.clock.now() ? data : null;
    } catch {
      return null;
    }
  }
}
