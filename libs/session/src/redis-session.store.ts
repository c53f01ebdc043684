import { once } from 'node:events';
import { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '#sessiongate/config';
import { createRedisConnection, type RedisConnection } from './redis-connection.js';
import { INVALIDATION_CHANNEL, RedisInvalidationFeed } from './redis-invalidation.feed.js';
import type { Clock } from './session.clock.js';
import { SessionError, SessionErrorCode } from './session.errors.js';
import {
  AUDIT_MAX_LENGTH,
  type AuditFields,
  type HitCount,
  type IndexPage,
  indexEntry,
  type SessionIndex,
  type SessionLookupKeys,
  SessionStore,
  type KnownBlob,
  type StoredSession,
  type TouchedSession,
} from './session.store.js';

/** Every command gets an answer or an error within this, so a dead Redis never hangs a request. */
const TIMEOUT_MS = 2000;

// A session is one hash, `sg:{<hash>}:s`: v (version), a (absolute expiry), i (idle expiry), d
// (encrypted data); beside it, in the same slot and with the same TTL, `sg:meta:{<hash>}`: l (last
// seen), the SessionLookups hashes the session is indexed by: u (sub), p (public id), s (provider
// sid, '' for none), and e, the absolute expiry its index entries were written with. ARGV[1] is
// always the caller's now, so expiry is decided by the same Clock as in the memory store.
//
// Indexes: `sg:sessions`, `sg:sub:{<u>}` and `sg:sid:{<s>}` are sorted sets whose members all score 0
// and sort as strings: `<absolute expiry, 15 digits>:<key hash>` (see indexEntry), so one ZREMRANGEBYLEX
// drops every entry whose absolute expiry has passed, and a page cursor is simply the last entry seen.
// `sg:pub:{<p>}` holds the key hash. Index keys live (TTL) until the latest absolute expiry they list,
// which no idle expiry passes: sliding a session never has to touch them.
//
// Redis Cluster: every script touches only the keys it declares, all in one slot: a session's own
// keys (`{<hash>}`), or one index key. The indexes live in other slots, so they are written in steps
// of their own (several round trips, never atomic with the session), in an order that never lets a
// usable session be missing from them, which would hide it from revocation:
// - created: the session first, then its entries; create returns (and the cookie is set) only once
//   both are written, so nobody can use the session before it is indexed. (Not the entries first: a
//   listing meeting an entry before its session exists would drop it as dead, for good);
// - replaced: its entries are kept (every one of its lookups stays; its absolute expiry may only move
//   earlier, so an entry's position, the expiry at login, is never before the session's);
// - deleted or expired: the session first, then its entries, best effort. An entry whose session is
//   gone is dead for good (a session is never written again once gone: compare-and-set needs it
//   live, and a new one has a new random id): listings drop those as they meet them.
// The same steps run on a standalone Redis and behind Sentinel. `sg:sessions` is one key, so in a
// Cluster one node takes every login, logout and full listing: fine at the rate people log in.
//
// Every script that deletes or replaces a session publishes its key hash on INVALIDATION_CHANNEL, in
// the same script as the change: Redis has pushed the message to every subscribed instance before the
// caller gets its answer (see RedisInvalidationFeed). PUBLISH names no key, so a Cluster accepts it.
const INVALIDATE = `local function invalidate(h) redis.call('PUBLISH', '${INVALIDATION_CHANNEL}', h) end`;

// KEYS: session, meta. ARGV: now, idle timeout, touch interval, known version and known blob digest
// ('' for none), key hash. The idle expiry is written only when it would move later by more than the
// interval (the key's own TTL counts as well as the field, since the TTL is what ends the session in
// Redis), or, once, when it reaches the absolute expiry: there the move is cut short, and an active
// session must still last until then. When the stored version and blob are the ones the caller knows,
// the blob is not returned (false, a nil in the reply): the caller holds it decrypted already. The
// digest (SHA-1, a few µs) keeps a blob altered in place under the same version from going unnoticed.
const TOUCH = `${INVALIDATE}
local f = redis.call('HMGET', KEYS[1], 'v', 'a', 'i', 'd')
if not f[1] then return nil end
local now = tonumber(ARGV[1])
local absolute, idle = tonumber(f[2]), tonumber(f[3])
if not (absolute and idle and f[4]) or absolute <= now or idle <= now then
  redis.call('DEL', KEYS[1], KEYS[2])
  invalidate(ARGV[6])
  return nil
end
local seen = tonumber(redis.call('HGET', KEYS[2], 'l')) or now
local target = math.min(now + tonumber(ARGV[2]), absolute)
local ttl = redis.call('PTTL', KEYS[1])
local current = idle
if ttl >= 0 then current = math.min(idle, now + ttl) end
if target - current > tonumber(ARGV[3]) or (target == absolute and idle < absolute) then
  idle, seen = target, now
  redis.call('HSET', KEYS[1], 'i', idle)
  redis.call('PEXPIRE', KEYS[1], idle - now)
  redis.call('HSET', KEYS[2], 'l', seen)
  redis.call('PEXPIRE', KEYS[2], idle - now)
end
local known = f[1] == ARGV[4] and redis.sha1hex(f[4]) == ARGV[5]
return {f[1], f[2], idle, (not known) and f[4], seen}
`;

// KEYS: session, meta. ARGV: now, expected version, the record (v, a, i, d), lookup hashes (u, p, s),
// key hash. A missing or expired record counts as version 0. Returns 0 (refused), 1 (written, or ended
// by an idle expiry already past) or 2 (created: index it now). A replace keeps the lookups and entry
// position, and is published (a new session had nothing to invalidate).
const COMPARE_AND_SET = `${INVALIDATE}
local f = redis.call('HMGET', KEYS[1], 'v', 'a', 'i')
local now = tonumber(ARGV[1])
local current = 0
if (tonumber(f[2]) or 0) > now and (tonumber(f[3]) or 0) > now then current = tonumber(f[1]) end
if current ~= tonumber(ARGV[2]) then return 0 end
local ttl = tonumber(ARGV[5]) - now
if current == 0 or ttl <= 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
if current ~= 0 then invalidate(ARGV[10]) end
if ttl <= 0 then return 1 end
if current == 0 then redis.call('HSET', KEYS[2], 'u', ARGV[7], 'p', ARGV[8], 's', ARGV[9], 'e', ARGV[4]) end
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'a', ARGV[4], 'i', ARGV[5], 'd', ARGV[6])
redis.call('HSET', KEYS[2], 'l', now)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
if current == 0 then return 2 end
return 1
`;

// KEYS: session, meta. ARGV[1]: key hash. Returns what was deleted (v, a, i, d, l) and its lookups
// (u, p, s, e), or nil.
const DELETE = `${INVALIDATE}
local f = redis.call('HMGET', KEYS[1], 'v', 'a', 'i', 'd')
local m = redis.call('HMGET', KEYS[2], 'l', 'u', 'p', 's', 'e')
if redis.call('DEL', KEYS[1], KEYS[2]) == 0 then return nil end
invalidate(ARGV[1])
return {f[1], f[2], f[3], f[4], m[1], m[2], m[3], m[4], m[5]}
`;

// KEYS[1]: an index. ARGV: entry, TTL. Never shortens the TTL: the key must live until the latest
// absolute expiry it lists.
const INDEX_ADD = `
redis.call('ZADD', KEYS[1], 0, ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
`;

// The lock holds its owner's random token: only the owner extends or deletes it.
const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`;

const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// KEYS[1]: a rate counter. ARGV[1]: its window. INCR and PEXPIRE in one script: a counter can never
// be left without its expiry (which would block a client for good).
const COUNT_HIT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {hits, redis.call('PTTL', KEYS[1])}
`;

/** Index entries a listing examines at most per call (see page), so that a listing after a mass expiry stays short. */
const PAGE_BUDGET = 1000;

type CountHitReply = [number, number];

type SessionReply = [string, string, number | string, string, number | string];
type TouchReply = [string, string, number | string, string | null, number | string];
type DeleteReply = [...SessionReply, string | null, string | null, string | null, string | null];

interface SessionScripts {
  lockRenew(key: string, owner: string, leaseMs: number): Promise<number>;
  lockRelease(key: string, owner: string): Promise<number>;
  sessionTouch(
    key: string,
    meta: string,
    now: number,
    idleTimeoutMs: number,
    intervalMs: number,
    knownVersion: string,
    knownDigest: string,
    keyHash: string,
  ): Promise<TouchReply | null>;
  sessionCompareAndSet(key: string, meta: string, now: number, expectedVersion: number, ...record: (string | number)[]): Promise<number>;
  sessionDelete(key: string, meta: string, keyHash: string): Promise<DeleteReply | null>;
  indexAdd(index: string, entry: string, ttlMs: number): Promise<null>;
}

/**
 * Sessions in Redis: standalone, behind Sentinel, or a Cluster (see the notes above). Layout, with
 * `<hash>` = sessionKeyHash(id): `sg:{<hash>}:s` one session hash, `sg:meta:{<hash>}` its last use and
 * lookup hashes, `sg:{<hash>}:lock` its refresh lock (the braces put a session's own keys in one
 * Cluster slot), `sg:login:{<hash>}` one pending login string; the indexes `sg:sessions`,
 * `sg:sub:{<u>}`, `sg:sid:{<s>}` and `sg:pub:{<p>}` (above); `sg:audit` the audit stream;
 * `sg:jti:{<j>}` a logout token id already used; `sg:rate:{<r>}` a rate counter.
 */
export class RedisSessionStore extends SessionStore {
  readonly kind = 'redis';
  /**
   * None on a Cluster: there a message travels the cluster bus after the script's reply, so a
   * revocation could be answered before other instances can know of it; every read goes to Redis.
   */
  readonly invalidations: RedisInvalidationFeed | undefined;
  private readonly redis: RedisConnection & SessionScripts;
  private unreachable = false;

  /** `config` may carry passwords: they are handed to ioredis and never logged. */
  constructor(
    config: RedisConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    super();
    this.redis = createRedisConnection(config, {
      timeoutMs: TIMEOUT_MS,
      scripts: {
        sessionTouch: { lua: TOUCH, numberOfKeys: 2 },
        sessionCompareAndSet: { lua: COMPARE_AND_SET, numberOfKeys: 2 },
        sessionDelete: { lua: DELETE, numberOfKeys: 2 },
        indexAdd: { lua: INDEX_ADD, numberOfKeys: 1 },
        lockRenew: { lua: RENEW_LOCK, numberOfKeys: 1 },
        lockRelease: { lua: RELEASE_LOCK, numberOfKeys: 1 },
      },
    }) as RedisConnection & SessionScripts;
    const redis = this.redis;
    this.invalidations =
      redis instanceof Cluster
        ? undefined
        : new RedisInvalidationFeed(() => redis.duplicate({ autoResubscribe: false, enableAutoPipelining: false }), logger);
    this.redis.on('error', (error: Error) => this.reportOutage(`${error.name}: ${error.message}`));
    this.redis.on('reconnecting', () => this.reportOutage('connection lost'));
    this.redis.on('ready', () => {
      if (!this.unreachable) return;
      this.unreachable = false;
      this.logger.info('session store (Redis) reachable again');
    });
  }

  /** Waits (at most TIMEOUT_MS) for the first connection; on failure, reconnecting goes on in the background. */
  async connect(): Promise<void> {
    this.redis.connect().catch(() => undefined);
    await this.run(() => once(this.redis, 'ready', { signal: AbortSignal.timeout(TIMEOUT_MS) }));
  }

  async touch(keyHash: string, idleTimeoutMs: number, intervalMs: number, known?: KnownBlob): Promise<TouchedSession | null> {
    const [knownVersion, knownDigest] = known ? [String(known.version), known.digest] : ['', ''];
    const reply = await this.run(() =>
      this.redis.sessionTouch(
        sessionKey(keyHash),
        metaKey(keyHash),
        this.clock.now(),
        idleTimeoutMs,
        intervalMs,
        knownVersion,
        knownDigest,
        keyHash,
      ),
    );
    if (!reply) return null;
    const [version, absoluteExpiresAt, idleExpiresAt, blob, lastSeenAt] = reply;
    return { ...storedSession([version, absoluteExpiresAt, idleExpiresAt, '', lastSeenAt]), blob: blob ?? undefined };
  }

  // One command per key (sessions live in different Cluster slots); auto-pipelining still sends them together.
  async peek(keyHashes: readonly string[]): Promise<(StoredSession | null)[]> {
    const replies = await this.run(() =>
      Promise.all(
        keyHashes.map((keyHash) =>
          Promise.all([this.redis.hmget(sessionKey(keyHash), 'v', 'a', 'i', 'd'), this.redis.hget(metaKey(keyHash), 'l')]),
        ),
      ),
    );
    const now = this.clock.now();
    return replies.map(([[version, absolute, idle, blob], seen]) => {
      if (!version || !blob || !(Number(absolute) > now) || !(Number(idle) > now)) return null;
      return storedSession([version, absolute!, idle!, blob, seen ?? idle!]);
    });
  }

  async compareAndSet(keyHash: string, expectedVersion: number, record: StoredSession, lookup: SessionLookupKeys): Promise<boolean> {
    const { version, absoluteExpiresAt, idleExpiresAt, blob } = record;
    const now = this.clock.now();
    const sid = lookup.idpSessionId ?? '';
    const reply = await this.run(() =>
      this.redis.sessionCompareAndSet(
        sessionKey(keyHash),
        metaKey(keyHash),
        now,
        expectedVersion,
        version,
        absoluteExpiresAt,
        idleExpiresAt,
        blob,
        lookup.sub,
        lookup.publicId,
        sid,
        keyHash,
      ),
    );
    if (reply === 0) return false;
    this.invalidations?.deliver(keyHash);
    if (expectedVersion > 0) await this.pushedToSubscribers();
    if (reply !== 2) return true;
    // Created: indexed before anyone can use it (see the notes above). Should that fail, the session goes too.
    const entry = indexEntry(absoluteExpiresAt, keyHash);
    const ttl = absoluteExpiresAt - now;
    try {
      await this.run(() =>
        Promise.all([
          ...indexKeys(lookup.sub, sid).map((index) => this.redis.indexAdd(index, entry, ttl)),
          this.redis.set(publicKey(lookup.publicId), keyHash, 'PX', ttl),
        ]),
      );
    } catch (error) {
      await this.delete(keyHash).catch(() => undefined);
      throw error;
    }
    return true;
  }

  async delete(keyHash: string): Promise<StoredSession | null> {
    const reply = await this.run(() => this.redis.sessionDelete(sessionKey(keyHash), metaKey(keyHash), keyHash));
    this.invalidations?.deliver(keyHash);
    if (!reply) return null;
    await this.pushedToSubscribers();
    const [, , , , , sub, publicId, sid, indexedAt] = reply;
    // After the session: an entry left behind by a failure here is dead, and listings drop it.
    if (indexedAt) {
      const entry = indexEntry(Number(indexedAt), keyHash);
      await this.run(() =>
        Promise.all([
          ...indexKeys(sub, sid).map((index) => this.redis.zrem(index, entry)),
          ...(publicId ? [this.redis.del(publicKey(publicId))] : []),
        ]),
      );
    }
    return reply[0] && reply[3] ? storedSession(reply.slice(0, 5) as SessionReply) : null;
  }

  async findByPublicId(publicIdHash: string): Promise<string | null> {
    return this.run(() => this.redis.get(publicKey(publicIdHash)));
  }

  async page(index: SessionIndex, cursor: string | undefined, limit: number): Promise<IndexPage> {
    const key = index.by === 'all' ? 'sg:sessions' : index.by === 'sub' ? subKey(index.hash) : sidKey(index.hash);
    const now = this.clock.now();
    await this.run(() => this.redis.zremrangebylex(key, '-', `(${indexEntry(now, '')}`));
    const keyHashes: string[] = [];
    let last = cursor ?? '';
    for (let budget = PAGE_BUDGET; keyHashes.length < limit && budget > 0; ) {
      const want = Math.min(limit - keyHashes.length, budget);
      const batch = await this.run(() => this.redis.zrangebylex(key, last === '' ? '-' : `(${last}`, '+', 'LIMIT', 0, want));
      const expiries = await this.run(() => Promise.all(batch.map((entry) => this.redis.hmget(sessionKey(entryKeyHash(entry)), 'a', 'i'))));
      const dead = batch.filter((entry, position) => {
        const [absolute, idle] = expiries[position]!;
        const live = Number(absolute) > now && Number(idle) > now;
        if (live) keyHashes.push(entryKeyHash(entry));
        return !live;
      });
      if (dead.length > 0) await this.run(() => this.redis.zrem(key, ...dead));
      budget -= batch.length;
      if (batch.length < want) {
        last = '';
        break;
      }
      last = batch.at(-1)!;
    }
    return { keyHashes, next: last || undefined };
  }

  async appendAudit(fields: AuditFields): Promise<void> {
    await this.run(() => this.redis.xadd('sg:audit', 'MAXLEN', '~', AUDIT_MAX_LENGTH, '*', ...Object.entries(fields).flat()));
  }

  async rememberLogoutToken(jtiHash: string, ttlMs: number): Promise<boolean> {
    return (await this.run(() => this.redis.set(`sg:jti:{${jtiHash}}`, '1', 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async forgetLogoutToken(jtiHash: string): Promise<void> {
    await this.run(() => this.redis.del(`sg:jti:{${jtiHash}}`));
  }

  async putLogin(keyHash: string, blob: string, ttlMs: number): Promise<void> {
    await this.run(() => this.redis.set(loginKey(keyHash), blob, 'PX', ttlMs));
  }

  async takeLogin(keyHash: string): Promise<string | null> {
    return this.run(() => this.redis.getdel(loginKey(keyHash)));
  }

  async acquireLock(keyHash: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.run(() => this.redis.set(lockKey(keyHash), owner, 'PX', leaseMs, 'NX'))) === 'OK';
  }

  async renewLock(keyHash: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await this.run(() => this.redis.lockRenew(lockKey(keyHash), owner, leaseMs))) === 1;
  }

  async releaseLock(keyHash: string, owner: string): Promise<void> {
    await this.run(() => this.redis.lockRelease(lockKey(keyHash), owner));
  }

  // Sent with EVAL rather than as a script of the constructor's: a rate counter is a side line of the session store.
  async countHit(counterKey: string, windowMs: number): Promise<HitCount> {
    const [hits, ttl] = (await this.run(() => this.redis.eval(COUNT_HIT, 1, `sg:rate:{${counterKey}}`, windowMs))) as CountHitReply;
    return { hits, resetsInMs: ttl > 0 ? ttl : windowMs };
  }

  async ping(): Promise<void> {
    await this.run(() => this.redis.ping());
  }

  async close(): Promise<void> {
    await this.invalidations?.close();
    if (this.redis.status === 'end') return;
    await this.redis.quit().catch(() => undefined);
    // Also closes what QUIT leaves open: behind Sentinel, the failover detector's subscriptions to the sentinels.
    this.redis.disconnect();
  }

  // By the index, which still lists a session that idled out until it is swept: ZLEXCOUNT is O(log n).
  async countSessions(): Promise<number> {
    return this.run(() => this.redis.zlexcount('sg:sessions', `[${String(this.clock.now() + 1).padStart(15, '0')}`, '+'));
  }

  /**
   * Resolves once Redis has written what the last script published to every subscriber's socket. Redis
   * writes out all pending replies and messages before it reads the next command, but it may write the
   * script's reply first: one more round trip makes sure that the messages have left Redis before the
   * caller answers (a revocation). If Redis is gone meanwhile, every subscription dropped with it.
   */
  private async pushedToSubscribers(): Promise<void> {
    if (this.invalidations) await this.redis.ping().catch(() => undefined);
  }

  /** Logged once per outage, with what went wrong first. */
  private reportOutage(failure: string): void {
    if (this.unreachable) return;
    this.unreachable = true;
    this.logger.error({ failure }, 'session store (Redis) unreachable: session requests fail with 503 until it is back');
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): SessionError {
    this.failures += 1;
    const failure = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown failure';
    return new SessionError(SessionErrorCode.StoreUnavailable, {
      detail: `Redis: ${failure}`,
      cause: error,
      headers: { 'retry-after': '2' },
    });
  }
}

function storedSession([version, absoluteExpiresAt, idleExpiresAt, blob, lastSeenAt]: SessionReply): StoredSession {
  return {
    version: Number(version),
    absoluteExpiresAt: Number(absoluteExpiresAt),
    idleExpiresAt: Number(idleExpiresAt),
    lastSeenAt: Number(lastSeenAt ?? idleExpiresAt),
    blob,
  };
}

function sessionKey(keyHash: string): string {
  return `sg:{${keyHash}}:s`;
}

// Same hash tag as the session: one Cluster slot. Not `sg:{<hash>}:meta`, so that `sg:{*` still
// matches a session's hash and lock only.
function metaKey(keyHash: string): string {
  return `sg:meta:{${keyHash}}`;
}

// Same hash tag as the session: one Cluster slot.
function lockKey(keyHash: string): string {
  return `sg:{${keyHash}}:lock`;
}

function publicKey(publicIdHash: string): string {
  return `sg:pub:{${publicIdHash}}`;
}

function subKey(subHash: string): string {
  return `sg:sub:{${subHash}}`;
}

function sidKey(sidHash: string): string {
  return `sg:sid:{${sidHash}}`;
}

/** The sorted-set indexes a session is listed in. */
function indexKeys(subHash: string | null, sidHash: string | null): string[] {
  return ['sg:sessions', ...(subHash ? [subKey(subHash)] : []), ...(sidHash ? [sidKey(sidHash)] : [])];
}

/** The key hash at the end of an index entry (`<15 digits>:<key hash>`). */
function entryKeyHash(entry: string): string {
  return entry.slice(16);
}

function loginKey(keyHash: string): string {
  return `sg:login:{${keyHash}}`;
}
