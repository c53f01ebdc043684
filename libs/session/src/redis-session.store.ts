import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from './session.clock.js';
import { SessionError, SessionErrorCode } from './session.errors.js';
import { SessionStore, type StoredSession } from './session.store.js';

/** Every command gets an answer or an error within this, so a dead Redis never hangs a request. */
const TIMEOUT_MS = 2000;

// A session is one hash: v (version), a (absolute expiry), i (idle expiry), d (encrypted data).
// ARGV[1] is the caller's now, so expiry is decided by the same Clock as in the memory store.
const TOUCH = `
local f = redis.call('HMGET', KEYS[1], 'v', 'a', 'i', 'd')
if not f[1] then return nil end
local now = tonumber(ARGV[1])
local absolute, idle = tonumber(f[2]), tonumber(f[3])
if not (absolute and idle and f[4]) or absolute <= now or idle <= now then
  redis.call('DEL', KEYS[1])
  return nil
end
idle = math.min(now + tonumber(ARGV[2]), absolute)
redis.call('HSET', KEYS[1], 'i', idle)
redis.call('PEXPIRE', KEYS[1], idle - now)
return {f[1], f[2], idle, f[4]}
`;

// A missing or expired record counts as version 0. PEXPIRE with a non-positive TTL deletes the key.
const COMPARE_AND_SET = `
local f = redis.call('HMGET', KEYS[1], 'v', 'a', 'i')
local now = tonumber(ARGV[1])
local current = 0
if (tonumber(f[2]) or 0) > now and (tonumber(f[3]) or 0) > now then current = tonumber(f[1]) end
if current ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'a', ARGV[4], 'i', ARGV[5], 'd', ARGV[6])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) - now)
return 1
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

interface SessionScripts {
  lockRenew(key: string, owner: string, leaseMs: number): Promise<number>;
  lockRelease(key: string, owner: string): Promise<number>;
  sessionTouch(key: string, now: number, idleTimeoutMs: number): Promise<[string, string, number, string] | null>;
  sessionCompareAndSet(key: string, now: number, expectedVersion: number, ...record: (string | number)[]): Promise<number>;
}

/**
 * Sessions in Redis (standalone; keys are Cluster-ready). Layout, with `<hash>` = sessionKeyHash(id):
 * `sg:{<hash>}:s` one session hash, `sg:{<hash>}:lock` its refresh lock (the braces put a session's
 * keys in one Cluster slot), `sg:login:{<hash>}` one pending login string.
 */
export class RedisSessionStore extends SessionStore {
  readonly kind = 'redis';
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
      scripts: {
        sessionTouch: { lua: TOUCH, numberOfKeys: 1 },
        sessionCompareAndSet: { lua: COMPARE_AND_SET, numberOfKeys: 1 },
        lockRenew: { lua: RENEW_LOCK, numberOfKeys: 1 },
        lockRelease: { lua: RELEASE_LOCK, numberOfKeys: 1 },
      },
    }) as Redis & SessionScripts;
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

  async touch(keyHash: string, idleTimeoutMs: number): Promise<StoredSession | null> {
    const reply = await this.run(() => this.redis.sessionTouch(sessionKey(keyHash), this.clock.now(), idleTimeoutMs));
    if (!reply) return null;
    const [version, absoluteExpiresAt, idleExpiresAt, blob] = reply;
    return { version: Number(version), absoluteExpiresAt: Number(absoluteExpiresAt), idleExpiresAt: Number(idleExpiresAt), blob };
  }

  async compareAndSet(keyHash: string, expectedVersion: number, record: StoredSession): Promise<boolean> {
    const { version, absoluteExpiresAt, idleExpiresAt, blob } = record;
    const now = this.clock.now();
    const reply = await this.run(() =>
      this.redis.sessionCompareAndSet(sessionKey(keyHash), now, expectedVersion, version, absoluteExpiresAt, idleExpiresAt, blob),
    );
    return reply === 1;
  }

  async delete(keyHash: string): Promise<void> {
    await this.run(() => this.redis.del(sessionKey(keyHash)));
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

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
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
      const failure = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown failure';
      throw new SessionError(SessionErrorCode.StoreUnavailable, { detail: `Redis: ${failure}`, cause: error, headers: { 'retry-after': '2' } });
    }
  }
}

function sessionKey(keyHash: string): string {
  return `sg:{${keyHash}}:s`;
}

// Same hash tag as the session: one Cluster slot.
function lockKey(keyHash: string): string {
  return `sg:{${keyHash}}:lock`;
}

function loginKey(keyHash: string): string {
  return `sg:login:{${keyHash}}`;
}
