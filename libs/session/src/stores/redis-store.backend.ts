import { once } from 'node:events';
import { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '#sessiongate/config';
import {
  createRedisConnection,
  duplicateConnection,
  type RedisConnection,
  RedisInvalidationFeed,
  STORE_SCRIPTS,
  type StoreScripts,
} from '#sessiongate/redis';
import { SessionError, SessionErrorCode } from '../session.errors.js';
import { StoreBackend } from './store.backend.js';

/** Every command gets an answer or an error within this, so a dead Redis never hangs a request. */
const TIMEOUT_MS = 2000;

/**
 * Redis, standalone, behind Sentinel, or a Cluster: the one connection every Redis store sends its
 * commands on (with the store scripts defined on it), and, but on a Cluster, the invalidation feed.
 * Counts and reports the commands that fail, once per outage.
 */
export class RedisStoreBackend extends StoreBackend {
  readonly kind = 'redis';
  failures = 0;
  readonly redis: RedisConnection & StoreScripts;
  /**
   * None on a Cluster: there a message travels the cluster bus after the script's reply, so a
   * revocation could be answered before other instances can know of it; every read goes to Redis.
   */
  readonly invalidations: RedisInvalidationFeed | undefined;
  private unreachable = false;

  /** `config` may carry passwords: they are handed to ioredis and never logged. */
  constructor(
    config: RedisConfig,
    private readonly logger: Logger,
  ) {
    super();
    const redis = createRedisConnection(config, { timeoutMs: TIMEOUT_MS, scripts: STORE_SCRIPTS }) as RedisConnection & StoreScripts;
    this.redis = redis;
    this.invalidations =
      redis instanceof Cluster
        ? undefined
        : new RedisInvalidationFeed(() => duplicateConnection(redis, { autoResubscribe: false, enableAutoPipelining: false }), logger);
    redis.on('error', (error: Error) => this.reportOutage(`${error.name}: ${error.message}`));
    redis.on('reconnecting', () => this.reportOutage('connection lost'));
    redis.on('ready', () => {
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

  /** Runs Redis commands; any failure to reach Redis becomes SessionError `session_store_unavailable`. */
  async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /**
   * Resolves once Redis has written what the last script published to every subscriber's socket. Redis
   * writes out all pending replies and messages before it reads the next command, but it may write the
   * script's reply first: one more round trip makes sure that the messages have left Redis before the
   * caller answers (a revocation). If Redis is gone meanwhile, every subscription dropped with it.
   */
  async pushedToSubscribers(): Promise<void> {
    if (this.invalidations) await this.redis.ping().catch(() => undefined);
  }

  /** Logged once per outage, with what went wrong first. */
  private reportOutage(failure: string): void {
    if (this.unreachable) return;
    this.unreachable = true;
    this.logger.error({ failure }, 'session store (Redis) unreachable: session requests fail with 503 until it is back');
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
