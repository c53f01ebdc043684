import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { INVALIDATION_CHANNEL, RedisInvalidationFeed } from './redis-invalidation.feed.js';
import type { Clock } from './session.clock.js';
import { SessionError, SessionErrorCode } from './session.errors.js';
import { AUDIT_MAX_LENGTH, type AuditFields, type HitCount, type IndexPage, type SessionIndex, type SessionLookupKeys, SessionStore, type KnownBlob, type StoredSession, type TouchedSession } from './session.store.js';

/** Every command gets an answer or an error within this, so a dead Redis never hangs a request. */
const TIMEOUT_MS = 2000;

// A session is one hash, `sg:{<hash>}:s`: v (version), a (absolute expiry), i (idle expiry), d
// (encrypted data); beside it, in the same slot and with the same TTL, `sg:meta:{<hash>}`: l (last
// seen) and the SessionLookups hashes the session is indexed by: u (sub), p (public id), s (provider
// sid, '' for none). ARGV[1] is always the caller's now, so expiry is decided by the same Clock as in
// the memory store.
//
// Indexes: `sg:sessions`, `sg:sub:{<u>}` and `sg:sid:{<s>}` are sorted sets whose members all score 0
// and sort as strings: `<absolute expiry, 15 digits>:<key hash>` (see indexEntry), so one ZREMRANGEBYLEX
// drops every entry whose absolute expiry has passed, and a page cursor is simply the last entry seen.
// `sg:pub:{<p>}` holds the key hash. Each index key lives (TTL) as long as the longest-lived session
// it lists, so nothing outlives the sessions; an entry of a session that idled out is dropped when a
// listing meets it.
//
// Redis Cluster (not supported yet): a session's own keys share the `{<hash>}` slot, but these scripts
// also write index keys they build from the meta fields, and those live in other slots: Cluster
// refuses both (undeclared keys, cross-slot). There, the session's keys would stay atomic in one slot
// and the indexes would be written in a separate step, accepting an index that briefly lags: listings
// already tolerate dead entries, but a missing entry would hide a live session from revocation, so
// the index would have to be written first and the session second.
const PRELUDE = `
local function session_key(h) return 'sg:{' .. h .. '}:s' end
local function public_key(p) return 'sg:pub:{' .. p .. '}' end
local function entry(a, h) return string.format('%015d', a) .. ':' .. h end
local function index_keys(u, s)
  local keys = {'sg:sessions'}
  if u and u ~= '' then table.insert(keys, 'sg:sub:{' .. u .. '}') end
  if s and s ~= '' then table.insert(keys, 'sg:sid:{' .. s .. '}') end
  return keys
end
-- Never shortens a TTL: an index key must live as long as the longest-lived session it lists.
local function extend(key, ttl)
  local current = redis.call('PTTL', key)
  if current ~= -2 and current < ttl then redis.call('PEXPIRE', key, ttl) end
end
local function unindex(h, a, u, p, s)
  if a then
    local e = entry(a, h)
    for _, key in ipairs(index_keys(u, s)) do redis.call('ZREM', key, e) end
  end
  if p and p ~= '' and redis.call('GET', public_key(p)) == h then redis.call('DEL', public_key(p)) end
end
-- In the same script as the change: Redis has pushed the message to every subscribed instance before
-- the caller gets its answer (see RedisInvalidationFeed).
local function invalidate(h) redis.call('PUBLISH', '${INVALIDATION_CHANNEL}', h) end
`;

// KEYS: session, meta. ARGV: now, idle timeout, touch interval, key hash, known version and known
// blob digest ('' for none). The idle expiry is written only when it would move later by more than
// the interval (the key's own TTL counts as well as the field, since the TTL is what ends the session
// in Redis), or, once, when it reaches the absolute expiry: there the move is cut short, and an active
// session must still last until then. When the stored version and blob are the ones the caller knows,
// the blob is not returned (false, a nil in the reply): the caller holds it decrypted already, and an
// unchanged session then costs a few bytes instead of ~3.4 KB. The digest (SHA-1, a few µs) keeps a
// blob altered in place under the same version from going unnoticed: it is returned, fails to decrypt,
// and the session is deleted, as without the cache.
const TOUCH = `${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'v', 'a', 'i', 'd')
if not f[1] then return nil end
local m = redis.call('HMGET', KEYS[2], 'l', 'u', 'p', 's')
local now = tonumber(ARGV[1])
local absolute, idle = tonumber(f[2]), tonumber(f[3])
if not (absolute and idle and f[4]) or absolute <= now or idle <= now then
  redis.call('DEL', KEYS[1], KEYS[2])
  unindex(ARGV[4], absolute, m[2], m[3], m[4])
  invalidate(ARGV[4])
  return nil
end
local seen = tonumber(m[1]) or now
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
  for _, key in ipairs(index_keys(m[2], m[4])) do extend(key, idle - now) end
  if m[3] then extend(public_key(m[3]), idle - now) end
end
local known = f[1] == ARGV[5] and redis.sha1hex(f[4]) == ARGV[6]
return {f[1], f[2], idle, (not known) and f[4], seen}
`;

// KEYS: session, meta. ARGV: now, expected version, the record (v, a, i, d), key hash, lookup hashes
// (u, p, s). A missing or expired record counts as version 0. Whatever entries the key had are
// replaced, since a replace may shorten the absolute expiry, which is part of each entry.
const COMPARE_AND_SET = `${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'v', 'a', 'i')
local now = tonumber(ARGV[1])
local current = 0
if (tonumber(f[2]) or 0) > now and (tonumber(f[3]) or 0) > now then current = tonumber(f[1]) end
if current ~= tonumber(ARGV[2]) then return 0 end
local h, ttl = ARGV[7], tonumber(ARGV[5]) - now
local m = redis.call('HMGET', KEYS[2], 'u', 'p', 's')
unindex(h, tonumber(f[2]), m[1], m[2], m[3])
if redis.call('DEL', KEYS[1], KEYS[2]) > 0 then invalidate(h) end
if ttl <= 0 then return 1 end
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'a', ARGV[4], 'i', ARGV[5], 'd', ARGV[6])
redis.call('HSET', KEYS[2], 'l', now, 'u', ARGV[8], 'p', ARGV[9], 's', ARGV[10])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
local e = entry(tonumber(ARGV[4]), h)
for _, key in ipairs(index_keys(ARGV[8], ARGV[10])) do
  redis.call('ZADD', key, 0, e)
  extend(key, ttl)
end
redis.call('SET', public_key(ARGV[9]), h, 'PX', ttl)
return 1
`;

// KEYS: session, meta. ARGV: key hash. Returns what was deleted (v, a, i, d, l), or nil.
const DELETE = `${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'v', 'a', 'i', 'd')
local m = redis.call('HMGET', KEYS[2], 'l', 'u', 'p', 's')
if redis.call('DEL', KEYS[1], KEYS[2]) == 0 then return nil end
unindex(ARGV[1], tonumber(f[2]), m[2], m[3], m[4])
invalidate(ARGV[1])
return {f[1], f[2], f[3], f[4], m[1]}
`;

// KEYS[1]: an index. ARGV: now, cursor ('' from the start), limit, budget (entries examined at most,
// so that a listing after a mass expiry never blocks Redis for long). Returns the next cursor ('' at
// the end) followed by the key hashes of live sessions.
const PAGE = `${PRELUDE}
local now, limit, budget = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYLEX', KEYS[1], '-', '(' .. string.format('%015d', now))
local found, last = {''}, ARGV[2]
while #found - 1 < limit and budget > 0 do
  local want = math.min(limit - (#found - 1), budget)
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], last == '' and '-' or '(' .. last, '+', 'LIMIT', 0, want)
  for _, e in ipairs(batch) do
    last = e
    local h = string.sub(e, 17)
    local g = redis.call('HMGET', session_key(h), 'a', 'i')
    local a, i = tonumber(g[1]), tonumber(g[2])
    if a and i and a > now and i > now and entry(a, h) == e then
      table.insert(found, h)
    else
      redis.call('ZREM', KEYS[1], e)
    end
  end
  budget = budget - #batch
  if #batch < want then
    last = ''
    break
  end
end
found[1] = last
return found
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

/** Index entries a listing examines at most per call (see PAGE). */
const PAGE_BUDGET = 1000;

type CountHitReply = [number, number];

type SessionReply = [string, string, number | string, string, number | string];
type TouchReply = [string, string, number | string, string | null, number | string];

interface SessionScripts {
  lockRenew(key: string, owner: string, leaseMs: number): Promise<number>;
  lockRelease(key: string, owner: string): Promise<number>;
  sessionTouch(key: string, meta: string, now: number, idleTimeoutMs: number, intervalMs: number, keyHash: string, knownVersion: string, knownDigest: string): Promise<TouchReply | null>;
  sessionCompareAndSet(key: string, meta: string, now: number, expectedVersion: number, ...record: (string | number)[]): Promise<number>;
  sessionDelete(key: string, meta: string, keyHash: string): Promise<SessionReply | null>;
  sessionPage(index: string, now: number, cursor: string, limit: number, budget: number): Promise<string[]>;
}

/**
 * Sessions in Redis (standalone; see the Cluster note above). Layout, with `<hash>` = sessionKeyHash(id):
 * `sg:{<hash>}:s` one session hash, `sg:meta:{<hash>}` its last use and lookup hashes, `sg:{<hash>}:lock`
 * its refresh lock (the braces put a session's own keys in one Cluster slot), `sg:login:{<hash>}` one
 * pending login string; the indexes
 * `sg:sessions`, `sg:sub:{<u>}`, `sg:sid:{<s>}` and `sg:pub:{<p>}` (above); `sg:audit` the audit
 * stream; `sg:jti:{<j>}` a logout token id already used; `sg:rate:{<r>}` a rate counter.
 */
export class RedisSessionStore extends SessionStore {
  readonly kind = 'redis';
  readonly invalidations: RedisInvalidationFeed;
  private readonly redis: Redis & SessionScripts;
  private unreachable = false;

  /** `url` may carry a password: it is handed to ioredis and never logged. */
  constructor(
    url: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    super();
    this.redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: TIMEOUT_MS,
      commandTimeout: TIMEOUT_MS,
      // Fail fast while disconnected rather than queue: a request gets its 503 at once, and a
      // command its caller already gave up on is never sent later. Reconnecting goes on by itself.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      // Commands issued in one event-loop turn (many proxied requests at once) go out in one write
      // and come back in one read: fewer syscalls per request, still one round trip each.
      enableAutoPipelining: true,
      scripts: {
        sessionTouch: { lua: TOUCH, numberOfKeys: 2 },
        sessionCompareAndSet: { lua: COMPARE_AND_SET, numberOfKeys: 2 },
        sessionDelete: { lua: DELETE, numberOfKeys: 2 },
        sessionPage: { lua: PAGE, numberOfKeys: 1 },
        lockRenew: { lua: RENEW_LOCK, numberOfKeys: 1 },
        lockRelease: { lua: RELEASE_LOCK, numberOfKeys: 1 },
      },
    }) as Redis & SessionScripts;
    this.invalidations = new RedisInvalidationFeed(() => this.redis.duplicate({ autoResubscribe: false, enableAutoPipelining: false }), logger);
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
      this.redis.sessionTouch(sessionKey(keyHash), metaKey(keyHash), this.clock.now(), idleTimeoutMs, intervalMs, keyHash, knownVersion, knownDigest),
    );
    if (!reply) return null;
    const [version, absoluteExpiresAt, idleExpiresAt, blob, lastSeenAt] = reply;
    return { ...storedSession([version, absoluteExpiresAt, idleExpiresAt, '', lastSeenAt]), blob: blob ?? undefined };
  }

  async peek(keyHashes: readonly string[]): Promise<(StoredSession | null)[]> {
    if (keyHashes.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const keyHash of keyHashes) pipeline.hmget(sessionKey(keyHash), 'v', 'a', 'i', 'd').hget(metaKey(keyHash), 'l');
    const replies = (await this.run(() => pipeline.exec())) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw this.unavailable(failed[0]);
    const now = this.clock.now();
    return keyHashes.map((_keyHash, position) => {
      const [version, absolute, idle, blob] = replies[2 * position]![1] as (string | null)[];
      const seen = replies[2 * position + 1]![1] as string | null;
      if (!version || !blob || !(Number(absolute) > now) || !(Number(idle) > now)) return null;
      return storedSession([version, absolute!, idle!, blob, seen ?? idle!]);
    });
  }

  async compareAndSet(keyHash: string, expectedVersion: number, record: StoredSession, lookup: SessionLookupKeys): Promise<boolean> {
    const { version, absoluteExpiresAt, idleExpiresAt, blob } = record;
    const now = this.clock.now();
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
        keyHash,
        lookup.sub,
        lookup.publicId,
        lookup.idpSessionId ?? '',
      ),
    );
    if (reply !== 1) return false;
    this.invalidations.deliver(keyHash);
    // Only a replace publishes (a new session had nothing to invalidate).
    if (expectedVersion > 0) await this.pushedToSubscribers();
    return true;
  }

  async delete(keyHash: string): Promise<StoredSession | null> {
    const reply = await this.run(() => this.redis.sessionDelete(sessionKey(keyHash), metaKey(keyHash), keyHash));
    this.invalidations.deliver(keyHash);
    if (reply) await this.pushedToSubscribers();
    return reply && reply[0] && reply[3] ? storedSession(reply) : null;
  }

  async findByPublicId(publicIdHash: string): Promise<string | null> {
    return this.run(() => this.redis.get(`sg:pub:{${publicIdHash}}`));
  }

  async page(index: SessionIndex, cursor: string | undefined, limit: number): Promise<IndexPage> {
    const key = index.by === 'all' ? 'sg:sessions' : index.by === 'sub' ? `sg:sub:{${index.hash}}` : `sg:sid:{${index.hash}}`;
    const [next, ...keyHashes] = await this.run(() => this.redis.sessionPage(key, this.clock.now(), cursor ?? '', limit, PAGE_BUDGET));
    return { keyHashes, next: next || undefined };
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
    await this.invalidations.close();
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
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
    await this.redis.ping().catch(() => undefined);
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
    return new SessionError(SessionErrorCode.StoreUnavailable, { detail: `Redis: ${failure}`, cause: error, headers: { 'retry-after': '2' } });
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

function loginKey(keyHash: string): string {
  return `sg:login:{${keyHash}}`;
}
