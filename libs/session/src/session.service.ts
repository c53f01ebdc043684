import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { SessionCipher } from './session.cipher.js';
import { Clock } from './session.clock.js';
import { isWellFormedSessionId, newPublicId, newSessionId, sessionKeyHash } from './session.ids.js';
import { SessionStore } from './session.store.js';
import type { PendingLogin, Session, SessionData, TokenSet } from './session.types.js';

export type NewSession = Omit<SessionData, 'publicId' | 'createdAt' | 'absoluteExpiresAt'> & { readonly absoluteExpiresAt?: number };

export interface TokenUpdate {
  /** Claims of a refreshed ID token; the session keeps its claims when absent. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** May shorten the session (e.g. the refresh token's own expiry), never lengthen it. */
  readonly absoluteExpiresAt?: number;
}

/**
 * Server-side sessions: the browser holds only the random id, the store holds an encrypted record
 * under the id's hash. Idle expiry slides on every read; absolute expiry never moves later.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly store: SessionStore,
    private readonly cipher: SessionCipher,
    private readonly clock: Clock,
  ) {}

  async create(data: NewSession): Promise<Session> {
    const now = this.clock.now();
    const absoluteExpiresAt = Math.min(now + this.config.session.absoluteTimeoutSeconds * 1000, data.absoluteExpiresAt ?? Infinity);
    const id = newSessionId();
    const session = await this.write(id, 0, {
      publicId: newPublicId(),
      sub: data.sub,
      idpSessionId: data.idpSessionId,
      claims: data.claims,
      tokens: data.tokens,
      createdAt: now,
      absoluteExpiresAt,
    });
    // 256 random bits do not collide; a false here would mean the store is broken.
    if (!session) throw new Error('a new session id was already taken');
    return session;
  }

  /** The session for a cookie value, or null: malformed, unknown, expired, or undecryptable. */
  async read(id: string): Promise<Session | null> {
    if (!isWellFormedSessionId(id)) return null;
    const keyHash = sessionKeyHash(id);
    const record = await this.store.touch(keyHash, this.config.session.idleTimeoutSeconds * 1000);
    if (!record) return null;
    let data: SessionData;
    try {
      data = JSON.parse(this.cipher.decrypt(record.blob, sessionAssociatedData(keyHash))) as SessionData;
    } catch {
      // Tampered with, copied from another key, or sealed with a key we no longer have: it can never be read.
      await this.store.delete(keyHash);
      return null;
    }
    // The encrypted absolute expiry is authoritative; the plaintext copy only drives the store's TTL.
    if (data.absoluteExpiresAt <= this.clock.now()) {
      await this.store.delete(keyHash);
      return null;
    }
    return { ...data, id, version: record.version, idleExpiresAt: record.idleExpiresAt };
  }

  /**
   * Stores new tokens if the session is still at `session.version`. Null when it was deleted or
   * written meanwhile (re-read it), or when the new absolute expiry has already passed (it is destroyed).
   */
  async replaceTokens(session: Session, tokens: TokenSet, options: TokenUpdate = {}): Promise<Session | null> {
    const absoluteExpiresAt = Math.min(session.absoluteExpiresAt, options.absoluteExpiresAt ?? Infinity);
    if (absoluteExpiresAt <= this.clock.now()) {
      await this.destroy(session.id);
      return null;
    }
    return this.write(session.id, session.version, {
      publicId: session.publicId,
      sub: session.sub,
      idpSessionId: session.idpSessionId,
      claims: options.claims ?? session.claims,
      tokens,
      createdAt: session.createdAt,
      absoluteExpiresAt,
    });
  }

  /** The session's refresh lock (shared by every gateway instance on this store); see SessionStore. */
  acquireRefreshLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.store.acquireLock(sessionKeyHash(id), owner, leaseMs);
  }

  renewRefreshLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.store.renewLock(sessionKeyHash(id), owner, leaseMs);
  }

  releaseRefreshLock(id: string, owner: string): Promise<void> {
    return this.store.releaseLock(sessionKeyHash(id), owner);
  }

  async destroy(id: string): Promise<void> {
    if (isWellFormedSessionId(id)) await this.store.delete(sessionKeyHash(id));
  }

  /** Keeps a started login (encrypted: it holds the PKCE verifier); returns the pre-login cookie value. */
  async savePendingLogin(login: PendingLogin): Promise<string> {
    const loginId = newSessionId();
    const keyHash = sessionKeyHash(loginId);
    const blob = this.cipher.encrypt(JSON.stringify(login), loginAssociatedData(keyHash));
    await this.store.putLogin(keyHash, blob, this.config.session.loginTimeoutSeconds * 1000);
    return loginId;
  }

  /** The pending login for a pre-login cookie value, removed in the same step: a second call gets null. */
  async takePendingLogin(loginId: string): Promise<PendingLogin | null> {
    if (!isWellFormedSessionId(loginId)) return null;
    const keyHash = sessionKeyHash(loginId);
    const blob = await this.store.takeLogin(keyHash);
    if (!blob) return null;
    let login: PendingLogin;
    try {
      login = JSON.parse(this.cipher.decrypt(blob, loginAssociatedData(keyHash))) as PendingLogin;
    } catch {
      return null;
    }
    return login.createdAt + this.config.session.loginTimeoutSeconds * 1000 > this.clock.now() ? login : null;
  }

  private async write(id: string, expectedVersion: number, data: SessionData): Promise<Session | null> {
    const keyHash = sessionKeyHash(id);
    const idleExpiresAt = Math.min(this.clock.now() + this.config.session.idleTimeoutSeconds * 1000, data.absoluteExpiresAt);
    const version = expectedVersion + 1;
    const blob = this.cipher.encrypt(JSON.stringify(data), sessionAssociatedData(keyHash));
    const written = await this.store.compareAndSet(keyHash, expectedVersion, { version, absoluteExpiresAt: data.absoluteExpiresAt, idleExpiresAt, blob });
    return written ? { ...data, id, version, idleExpiresAt } : null;
  }
}

// Binds each blob to the record it was written for: moved under another key, it fails to decrypt.
function sessionAssociatedData(keyHash: string): string {
  return `session:${keyHash}`;
}

function loginAssociatedData(keyHash: string): string {
  return `login:${keyHash}`;
}
