import { Inject, Injectable, Optional } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { NoopTelemetry, outcomeOf, Telemetry } from '#sessiongate/observability';
import { blobDigest, openSession, sealSession } from './session-record.js';
import { SessionCipher } from './session.cipher.js';
import { Clock } from './session.clock.js';
import { SessionEndListeners } from './session-end.listeners.js';
import { isWellFormedSessionId, newPublicId, newSessionId, sessionKeyHash } from './session.ids.js';
import { SessionLookups } from './session.lookups.js';
import { type HeldSession, type ReadTicket, SessionReadCache } from './session.read-cache.js';
import { PendingLoginStore } from './stores/pending-login.store.js';
import { SessionRecordStore } from './stores/session-record.store.js';
import type { PendingLogin, Session, SessionData, TokenSet } from './session.types.js';

export type NewSession = Omit<SessionData, 'publicId' | 'createdAt' | 'absoluteExpiresAt'> & { readonly absoluteExpiresAt?: number };

/** Writes of one session racing each other (each under its own lock, on other fields) before one gives up. */
const MAX_UPDATE_ATTEMPTS = 5;

export interface TokenUpdate {
  /** Claims of a refreshed ID token; the session keeps its claims when absent. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** May shorten the session (e.g. the refresh token's own expiry), never lengthen it. */
  readonly absoluteExpiresAt?: number;
}

/**
 * Server-side sessions: the browser holds only the random id, the store holds an encrypted record
 * under the id's hash. Idle expiry slides on use (written at most once per SESSION_TOUCH_INTERVAL);
 * absolute expiry never moves later.
 *
 * The store alone says whether a session still exists. With SESSION_CACHE=local (the default) and
 * Redis, a read is answered from memory (SessionReadCache) while the store's invalidation feed is
 * live and no idle write is due: every delete and replace, on any instance or from the CLI, is
 * published by the very script that makes it, and forgets the session here as it arrives (see
 * SECURITY.md for the exact guarantee). Otherwise every read asks the store, and memory only spares
 * decrypting a version already read here.
 */
@Injectable()
export class SessionService {
  /** Decrypted sessions read or written here (see SessionReadCache). */
  private readonly cache: SessionReadCache;
  private readonly telemetry: Telemetry;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly records: SessionRecordStore,
    private readonly pendingLogins: PendingLoginStore,
    private readonly cipher: SessionCipher,
    private readonly clock: Clock,
    private readonly lookups: SessionLookups,
    private readonly endings: SessionEndListeners,
    // Optional for the tests and tools that build SessionModule alone, without the gateway's TelemetryModule.
    @Optional() telemetry?: Telemetry,
  ) {
    this.telemetry = telemetry ?? new NoopTelemetry();
    this.cache = new SessionReadCache(config.session.cache === 'local' ? records.invalidations : undefined);
  }

  /**
   * Calls `changed` with the key hash (sessionKeyHash) of every session deleted or replaced from now
   * on, here or on any other instance, as the store announces it. A store without a feed (the
   * in-process one) announces nothing.
   */
  watchChanges(changed: (keyHash: string) => void): void {
    this.records.invalidations?.listen({ invalidated: changed, reset: () => undefined });
  }

  async create(data: NewSession): Promise<Session> {
    const now = this.clock.now();
    const absoluteExpiresAt = Math.min(now + this.config.session.absoluteTimeoutSeconds * 1000, data.absoluteExpiresAt ?? Infinity);
    const id = newSessionId();
    const session = await this.write(id, 0, {
      publicId: newPublicId(),
      sub: data.sub,
      idpSessionId: data.idpSessionId,
      claims: data.claims,
      userinfo: data.userinfo,
      tokens: data.tokens,
      createdAt: now,
      absoluteExpiresAt,
      userAgent: data.userAgent,
      ip: data.ip,
      connections: data.connections,
    });
    // 256 random bits do not collide; a false here would mean the store is broken.
    if (!session) throw new Error('a new session id was already taken');
    return session;
  }

  /**
   * The session for a cookie value, or null: malformed, unknown, expired, or undecryptable.
   * `fresh`: ask the store even when memory could answer (a read that decides a refresh, after the lock).
   * `slide: false`: leave the idle expiry where it is (a SPA polling /bff/user?slide=false is not activity).
   */
  async read(id: string, options?: { readonly fresh?: boolean; readonly slide?: boolean }): Promise<Session | null> {
    if (!isWellFormedSessionId(id)) return null;
    const reading = this.telemetry.sessionReadStarted();
    const keyHash = sessionKeyHash(id);
    if (options?.slide === false) return this.reported(reading, this.readWithoutSliding(id, keyHash));
    const { idleTimeoutSeconds, touchIntervalMs } = this.config.session;
    const idleTimeoutMs = idleTimeoutSeconds * 1000;
    // Taken before any wait: the entry may be replaced or dropped meanwhile.
    const held = this.cache.get(keyHash);
    if (options?.fresh !== true && held && this.cache.answers(held, this.clock.now(), idleTimeoutMs, touchIntervalMs)) {
      await this.cache.drained();
      // Still held once pending invalidations have run, and the feed still live: the store holds this very version.
      if (this.cache.holds(keyHash, held) && this.cache.answers(held, this.clock.now(), idleTimeoutMs, touchIntervalMs)) {
        this.telemetry.sessionReadEnded(reading, 'memory', 'found');
        return held.session;
      }
    }
    const ticket = this.cache.begin(keyHash);
    let session: Session | null;
    try {
      session = await this.readStored(id, keyHash, held, ticket);
    } catch (error) {
      this.telemetry.sessionReadEnded(reading, 'store', outcomeOf(error));
      throw error;
    } finally {
      this.cache.end(ticket);
    }
    this.telemetry.sessionReadEnded(reading, 'store', session ? 'found' : 'none');
    return session;
  }

  /** A read from the store that reports its outcome, whatever it is. */
  private async reported(reading: ReturnType<Telemetry['sessionReadStarted']>, read: Promise<Session | null>): Promise<Session | null> {
    try {
      const session = await read;
      this.telemetry.sessionReadEnded(reading, 'store', session ? 'found' : 'none');
      return session;
    } catch (error) {
      this.telemetry.sessionReadEnded(reading, 'store', outcomeOf(error));
      throw error;
    }
  }

  private async readStored(id: string, keyHash: string, held: HeldSession | undefined, ticket: ReadTicket): Promise<Session | null> {
    const { idleTimeoutSeconds, touchIntervalMs } = this.config.session;
    const record = await this.records.touch(keyHash, idleTimeoutSeconds * 1000, touchIntervalMs, held);
    if (!record) {
      this.cache.invalidated(keyHash);
      return null;
    }
    let data: SessionData;
    let digest: string;
    let size: number;
    // No blob: the store found the version and blob held here. A store that always sends it (memory) is checked here.
    if (held && held.version === record.version && (record.blob === undefined || blobDigest(record.blob) === held.digest)) {
      ({ session: data, digest, size } = held);
    } else {
      // The store leaves the blob out only for the version and blob it was given, which is handled above.
      if (record.blob === undefined) throw new Error(`the session store left out the blob of version ${record.version}`);
      try {
        data = openSession(this.cipher, keyHash, record.blob);
      } catch {
        // Tampered with, copied from another key, or sealed with a key we no longer have: it can never be read.
        this.cache.invalidated(keyHash);
        await this.records.delete(keyHash);
        return null;
      }
      digest = blobDigest(record.blob);
      size = record.blob.length;
    }
    // The encrypted absolute expiry is authoritative; the plaintext copy only drives the store's TTL.
    if (data.absoluteExpiresAt <= this.clock.now()) {
      this.cache.invalidated(keyHash);
      await this.records.delete(keyHash);
      return null;
    }
    const { version, idleExpiresAt, absoluteExpiresAt } = record;
    const session = heldSession(data, id, version, idleExpiresAt);
    this.cache.fill(ticket, { version, digest, session, idleExpiresAt, absoluteExpiresAt, size });
    return session;
  }

  /** Always from the store, which checks both expiries; nothing is written, so nothing is filled in memory either. */
  private async readWithoutSliding(id: string, keyHash: string): Promise<Session | null> {
    const [record] = await this.records.peek([keyHash]);
    if (!record) return null;
    let data: SessionData;
    try {
      data = openSession(this.cipher, keyHash, record.blob);
    } catch {
      return null;
    }
    return data.absoluteExpiresAt > this.clock.now() ? heldSession(data, id, record.version, record.idleExpiresAt) : null;
  }

  /**
   * Stores new tokens if the session still holds the tokens of `session` (another of its fields, e.g. a
   * connection, may have been written meanwhile: that write is kept). Null when it was deleted, or its
   * tokens were written meanwhile (re-read it), or when the new absolute expiry has already passed (it is destroyed).
   */
  async replaceTokens(session: Session, tokens: TokenSet, options: TokenUpdate = {}): Promise<Session | null> {
    const shortened = options.absoluteExpiresAt ?? Infinity;
    // Only the holder of the session's refresh lock writes its tokens: other tokens there mean it was replaced or ended.
    return this.update(session, (current) =>
      JSON.stringify(current.tokens) === JSON.stringify(session.tokens)
        ? {
            ...current,
            claims: options.claims ?? current.claims,
            tokens,
            absoluteExpiresAt: Math.min(current.absoluteExpiresAt, session.absoluteExpiresAt, shortened),
          }
        : undefined,
    );
  }

  /**
   * Writes `change(current)` over the latest version of the session, so that writers of different fields
   * (a token refresh, a connection's refresh, each under its own lock, on any instance) never undo each
   * other: when another write got there first, the session is read again and the change applied to that.
   * `change` returns undefined to give up (what it meant to replace has changed); `publicId`, `sub`,
   * `createdAt` and the session's id are kept whatever it returns, and the absolute expiry never moves later.
   * Null when the session is gone (or its absolute expiry has passed: it is destroyed), or the change gave up.
   */
  async update(session: Session, change: (current: Session) => SessionData | undefined): Promise<Session | null> {
    let current: Session | null = session;
    for (let attempt = 0; current !== null && attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const next = change(current);
      if (next === undefined) return null;
      const data = sessionDataOf({
        ...next,
        publicId: current.publicId,
        sub: current.sub,
        createdAt: current.createdAt,
        absoluteExpiresAt: Math.min(next.absoluteExpiresAt, current.absoluteExpiresAt),
      });
      if (data.absoluteExpiresAt <= this.clock.now()) {
        await this.destroy(current.id);
        return null;
      }
      const written = await this.write(current.id, current.version, data);
      if (written) return written;
      current = await this.read(session.id, { fresh: true });
    }
    return null;
  }

  /** Ends the session for good (logout, a refused refresh): deleted, then SessionEndListeners are told what it held. */
  async end(id: string): Promise<void> {
    if (!isWellFormedSessionId(id)) return;
    const keyHash = sessionKeyHash(id);
    this.cache.invalidated(keyHash);
    const deleted = await this.records.delete(keyHash);
    if (!deleted) return;
    let data: SessionData;
    try {
      data = openSession(this.cipher, keyHash, deleted.blob);
    } catch {
      return;
    }
    await this.endings.ended(data);
  }

  async destroy(id: string): Promise<void> {
    if (!isWellFormedSessionId(id)) return;
    const keyHash = sessionKeyHash(id);
    this.cache.invalidated(keyHash);
    await this.records.delete(keyHash);
  }

  /** Keeps a started login (encrypted: it holds the PKCE verifier); returns the pre-login cookie value. */
  async savePendingLogin(login: PendingLogin): Promise<string> {
    return this.savePending('login', login);
  }

  /** The pending login for a pre-login cookie value, removed in the same step: a second call gets null. */
  async takePendingLogin(loginId: string): Promise<PendingLogin | null> {
    return this.takePending<PendingLogin>('login', loginId);
  }

  /**
   * Keeps a started redirect flow (a login, a connection) for LOGIN_TIMEOUT, encrypted and bound to
   * `purpose`: one kind can never be taken as another. Returns the value for its cookie.
   */
  async savePending(purpose: PendingPurpose, value: { readonly createdAt: number }): Promise<string> {
    const pendingId = newSessionId();
    const keyHash = sessionKeyHash(pendingId);
    const blob = this.cipher.encrypt(JSON.stringify(value), `${purpose}:${keyHash}`);
    await this.pendingLogins.put(keyHash, blob, this.config.session.loginTimeoutSeconds * 1000);
    return pendingId;
  }

  /** The pending flow for a cookie value, removed in the same step (a second call gets null); null once LOGIN_TIMEOUT has passed. */
  async takePending<T extends { readonly createdAt: number }>(purpose: PendingPurpose, pendingId: string): Promise<T | null> {
    if (!isWellFormedSessionId(pendingId)) return null;
    const keyHash = sessionKeyHash(pendingId);
    const blob = await this.pendingLogins.take(keyHash);
    if (!blob) return null;
    let value: T;
    try {
      value = JSON.parse(this.cipher.decrypt(blob, `${purpose}:${keyHash}`)) as T;
    } catch {
      return null;
    }
    return value.createdAt + this.config.session.loginTimeoutSeconds * 1000 > this.clock.now() ? value : null;
  }

  private async write(id: string, expectedVersion: number, data: SessionData): Promise<Session | null> {
    const keyHash = sessionKeyHash(id);
    const now = this.clock.now();
    const idleExpiresAt = Math.min(now + this.config.session.idleTimeoutSeconds * 1000, data.absoluteExpiresAt);
    const version = expectedVersion + 1;
    const blob = sealSession(this.cipher, keyHash, data);
    const lookup = {
      sub: this.lookups.sub(data.sub),
      publicId: this.lookups.publicId(data.publicId),
      idpSessionId: data.idpSessionId === undefined ? undefined : this.lookups.idpSessionId(data.idpSessionId),
    };
    const record = { version, absoluteExpiresAt: data.absoluteExpiresAt, idleExpiresAt, lastSeenAt: now, blob };
    const session = heldSession(data, id, version, idleExpiresAt);
    const ticket = this.cache.begin(keyHash);
    try {
      if (!(await this.records.compareAndSet(keyHash, expectedVersion, record, lookup))) {
        // Written or deleted meanwhile, perhaps by hand (a DEL publishes nothing): what is held here is stale.
        this.cache.invalidated(keyHash);
        return null;
      }
      // A store with a feed announces its own write as a change, so the next read there fetches it; without one this is the memo.
      this.cache.fill(ticket, {
        version,
        digest: blobDigest(blob),
        session,
        idleExpiresAt,
        absoluteExpiresAt: data.absoluteExpiresAt,
        size: blob.length,
      });
    } finally {
      this.cache.end(ticket);
    }
    return session;
  }
}

/** Shared by the reads the cache answers, hence frozen (its fields are readonly already). */
function heldSession(data: SessionData, id: string, version: number, idleExpiresAt: number): Session {
  return Object.freeze({ ...data, id, version, idleExpiresAt });
}

/** What a pending flow is for; part of its associated data (`login:<hash>` is what pending logins have always been sealed with). */
export type PendingPurpose = 'login' | 'connect';

/** The stored part of a session: never its id (the cookie value), version or idle expiry, which live beside the blob. */
function sessionDataOf(session: SessionData & Partial<Pick<Session, 'id' | 'version' | 'idleExpiresAt'>>): SessionData {
  const { id: _id, version: _version, idleExpiresAt: _idle, ...data } = session;
  return data;
}
