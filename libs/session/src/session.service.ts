import { Inject, Injectable, Optional } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { NoopTelemetry, outcomeOf, Telemetry } from '#sessiongate/observability';
import { blobDigest, openSession, sealSession } from './session-record.js';
import { SessionCipher } from './session.cipher.js';
import { Clock } from './session.clock.js';
import { isWellFormedSessionId, newPublicId, newSessionId, sessionKeyHash } from './session.ids.js';
import { SessionLookups } from './session.lookups.js';
import { type HeldSession, type ReadTicket, SessionReadCache } from './session.read-cache.js';
import { PendingLoginStore } from './stores/pending-login.store.js';
import { SessionRecordStore } from './stores/session-record.store.js';
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
    });
    // 256 random bits do not collide; a false here would mean the store is broken.
    if (!session) throw new Error('a new session id was already taken');
    return session;
  }

  /**
   * The session for a cookie value, or null: malformed, unknown, expired, or undecryptable.
   * `fresh`: ask the store even when memory could answer (a read that decides a refresh, after the lock).
   */
  async read(id: string, options?: { readonly fresh?: boolean }): Promise<Session | null> {
    if (!isWellFormedSessionId(id)) return null;
    const reading = this.telemetry.sessionReadStarted();
    const keyHash = sessionKeyHash(id);
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
      userinfo: session.userinfo,
      tokens,
      createdAt: session.createdAt,
      absoluteExpiresAt,
      userAgent: session.userAgent,
      ip: session.ip,
    });
  }

  async destroy(id: string): Promise<void> {
    if (!isWellFormedSessionId(id)) return;
    const keyHash = sessionKeyHash(id);
    this.cache.invalidated(keyHash);
    await this.records.delete(keyHash);
  }

  /** Keeps a started login (encrypted: it holds the PKCE verifier); returns the pre-login cookie value. */
  async savePendingLogin(login: PendingLogin): Promise<string> {
    const loginId = newSessionId();
    const keyHash = sessionKeyHash(loginId);
    const blob = this.cipher.encrypt(JSON.stringify(login), loginAssociatedData(keyHash));
    await this.pendingLogins.put(keyHash, blob, this.config.session.loginTimeoutSeconds * 1000);
    return loginId;
  }

  /** The pending login for a pre-login cookie value, removed in the same step: a second call gets null. */
  async takePendingLogin(loginId: string): Promise<PendingLogin | null> {
    if (!isWellFormedSessionId(loginId)) return null;
    const keyHash = sessionKeyHash(loginId);
    const blob = await this.pendingLogins.take(keyHash);
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

function loginAssociatedData(keyHash: string): string {
  return `login:${keyHash}`;
}
