import type { RedisInvalidationFeed, SessionReply } from '#sessiongate/redis';
import type { Clock } from '../session.clock.js';
import type { RedisStoreBackend } from './redis-store.backend.js';
import {
  type IndexPage,
  indexEntry,
  type KnownBlob,
  type SessionIndex,
  type SessionLookupKeys,
  SessionRecordStore,
  type StoredSession,
  type TouchedSession,
} from './session-record.store.js';

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
// The scripts (STORE_SCRIPTS, #sessiongate/redis) publish every delete and replace on the invalidation channel.

/** Index entries a listing examines at most per call (see page), so that a listing after a mass expiry stays short. */
const PAGE_BUDGET = 1000;

/**
 * Sessions in Redis (see the notes above). Layout, with `<hash>` = sessionKeyHash(id): `sg:{<hash>}:s`
 * one session hash, `sg:meta:{<hash>}` its last use and lookup hashes (the braces put a session's own
 * keys in one Cluster slot); the indexes `sg:sessions`, `sg:sub:{<u>}`, `sg:sid:{<s>}` and
 * `sg:pub:{<p>}` (above).
 */
export class RedisSessionRecordStore extends SessionRecordStore {
  readonly invalidations: RedisInvalidationFeed | undefined;
  private readonly redis: RedisStoreBackend['redis'];

  constructor(
    private readonly backend: RedisStoreBackend,
    private readonly clock: Clock,
  ) {
    super();
    this.redis = backend.redis;
    this.invalidations = backend.invalidations;
  }

  async touch(keyHash: string, idleTimeoutMs: number, intervalMs: number, known?: KnownBlob): Promise<TouchedSession | null> {
    const [knownVersion, knownDigest] = known ? [String(known.version), known.digest] : ['', ''];
    const reply = await this.backend.run(() =>
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
    const replies = await this.backend.run(() =>
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
    const reply = await this.backend.run(() =>
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
    if (expectedVersion > 0) await this.backend.pushedToSubscribers();
    if (reply !== 2) return true;
    // Created: indexed before anyone can use it (see the notes above). Should that fail, the session goes too.
    const entry = indexEntry(absoluteExpiresAt, keyHash);
    const ttl = absoluteExpiresAt - now;
    try {
      await this.backend.run(() =>
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
    const reply = await this.backend.run(() => this.redis.sessionDelete(sessionKey(keyHash), metaKey(keyHash), keyHash));
    this.invalidations?.deliver(keyHash);
    if (!reply) return null;
    await this.backend.pushedToSubscribers();
    const [, , , , , sub, publicId, sid, indexedAt] = reply;
    // After the session: an entry left behind by a failure here is dead, and listings drop it.
    if (indexedAt) {
      const entry = indexEntry(Number(indexedAt), keyHash);
      await this.backend.run(() =>
        Promise.all([
          ...indexKeys(sub, sid).map((index) => this.redis.zrem(index, entry)),
          ...(publicId ? [this.redis.del(publicKey(publicId))] : []),
        ]),
      );
    }
    return reply[0] && reply[3] ? storedSession(reply.slice(0, 5) as SessionReply) : null;
  }

  async findByPublicId(publicIdHash: string): Promise<string | null> {
    return this.backend.run(() => this.redis.get(publicKey(publicIdHash)));
  }

  async page(index: SessionIndex, cursor: string | undefined, limit: number): Promise<IndexPage> {
    const key = index.by === 'all' ? 'sg:sessions' : index.by === 'sub' ? subKey(index.hash) : sidKey(index.hash);
    const now = this.clock.now();
    await this.backend.run(() => this.redis.zremrangebylex(key, '-', `(${indexEntry(now, '')}`));
    const keyHashes: string[] = [];
    let last = cursor ?? '';
    for (let budget = PAGE_BUDGET; keyHashes.length < limit && budget > 0; ) {
      const want = Math.min(limit - keyHashes.length, budget);
      const batch = await this.backend.run(() => this.redis.zrangebylex(key, last === '' ? '-' : `(${last}`, '+', 'LIMIT', 0, want));
      const expiries = await this.backend.run(() =>
        Promise.all(batch.map((entry) => this.redis.hmget(sessionKey(entryKeyHash(entry)), 'a', 'i'))),
      );
      const dead = batch.filter((entry, position) => {
        const [absolute, idle] = expiries[position]!;
        const live = Number(absolute) > now && Number(idle) > now;
        if (live) keyHashes.push(entryKeyHash(entry));
        return !live;
      });
      if (dead.length > 0) await this.backend.run(() => this.redis.zrem(key, ...dead));
      budget -= batch.length;
      if (batch.length < want) {
        last = '';
        break;
      }
      last = batch.at(-1)!;
    }
    return { keyHashes, next: last || undefined };
  }

  // By the index, which still lists a session that idled out until it is swept: ZLEXCOUNT is O(log n).
  async count(): Promise<number> {
    return this.backend.run(() => this.redis.zlexcount('sg:sessions', `[${String(this.clock.now() + 1).padStart(15, '0')}`, '+'));
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
