import { INVALIDATION_CHANNEL } from './redis-invalidation.feed.js';

// The Lua scripts of the Redis stores, defined on their one connection (createRedisConnection's
// `scripts`). A session script takes the caller's now as an argument, so expiry is decided by the
// same Clock as in the in-process stores. Every script touches only the keys it declares, all in one
// Cluster slot.

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

// KEYS[1]: a user vault record, `<version>:<blob>`. ARGV: the expected version ('' for any, '0' for
// none), the blob, the TTL. Returns the new version, or 0 when the stored version is another.
const VAULT_PUT = `
local stored = redis.call('GET', KEYS[1])
local version = 0
if stored then version = tonumber(string.match(stored, '^(%d+):')) or 0 end
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= version then return 0 end
redis.call('SET', KEYS[1], (version + 1) .. ':' .. ARGV[2], 'PX', ARGV[3])
return version + 1
`;

// KEYS[1]: a user vault record. ARGV[1]: the expected version ('' for any). Returns what was deleted, or nil.
const VAULT_DELETE = `
local stored = redis.call('GET', KEYS[1])
if not stored then return nil end
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= tonumber(string.match(stored, '^(%d+):')) then return nil end
redis.call('DEL', KEYS[1])
return stored
`;

/** A session's fields as a script returns them: v, a, i, d, l. */
export type SessionReply = [string, string, number | string, string, number | string];
/** As SessionReply, with no blob (nil) when the caller holds that version and blob already. */
export type TouchReply = [string, string, number | string, string | null, number | string];
/** As SessionReply, then the lookups the session was indexed by: u, p, s, e. */
export type DeleteReply = [...SessionReply, string | null, string | null, string | null, string | null];
/** The hits so far in the window, and its TTL (ms). */
export type CountHitReply = [number, number];

/** The scripts, as commands of the connection they are defined on. */
export interface StoreScripts {
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
  countHit(counter: string, windowMs: number): Promise<CountHitReply>;
  vaultPut(key: string, expectedVersion: string, blob: string, ttlMs: number): Promise<number>;
  vaultDelete(key: string, expectedVersion: string): Promise<string | null>;
}

export const STORE_SCRIPTS = {
  sessionTouch: { lua: TOUCH, numberOfKeys: 2 },
  sessionCompareAndSet: { lua: COMPARE_AND_SET, numberOfKeys: 2 },
  sessionDelete: { lua: DELETE, numberOfKeys: 2 },
  indexAdd: { lua: INDEX_ADD, numberOfKeys: 1 },
  lockRenew: { lua: RENEW_LOCK, numberOfKeys: 1 },
  lockRelease: { lua: RELEASE_LOCK, numberOfKeys: 1 },
  countHit: { lua: COUNT_HIT, numberOfKeys: 1 },
  vaultPut: { lua: VAULT_PUT, numberOfKeys: 1 },
  vaultDelete: { lua: VAULT_DELETE, numberOfKeys: 1 },
} as const satisfies Readonly<Record<keyof StoreScripts, { readonly lua: string; readonly numberOfKeys: number }>>;
