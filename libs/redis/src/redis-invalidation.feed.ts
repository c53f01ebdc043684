import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { InvalidationFeed, InvalidationListener } from './invalidation.feed.js';

/** The channel the session scripts PUBLISH a key hash on whenever they delete or replace that session. */
export const INVALIDATION_CHANNEL = 'sg:invalidate';

/** A PING goes down the subscriber connection this often. */
const HEARTBEAT_MS = 250;
/**
 * The feed counts as live only while a PING sent at most this long ago has been answered. Redis
 * answers a PING after every message it published before it, on the same connection, in order: an
 * answer to a PING sent at t proves that every invalidation published before t has been delivered.
 * So, whatever happens to the connection, a read is never answered from memory for a session that
 * was revoked more than this long before.
 */
export const STALE_AFTER_MS = 1000;

/**
 * Invalidations from Redis pub/sub, on a connection of their own (a subscribed connection can do
 * nothing else). Opened only once something listens (the CLI never does). When the connection
 * drops, messages may be lost while it is down: the listener is reset, and the feed is not live
 * again until it has subscribed anew.
 *
 * Not CLIENT TRACKING: it would also see keys changed by hand or evicted, but it announces every
 * write to a key, so each idle-expiry write (one per session per touch interval) would evict the
 * session on every instance; it ties the reading connection to the subscriber's client id (to be
 * set again after either reconnects), and in Cluster it is per node. One PUBLISH in the scripts that
 * delete or replace a session says exactly what matters.
 */
export class RedisInvalidationFeed implements InvalidationFeed {
  private readonly listeners = new Set<InvalidationListener>();
  private subscriber: Redis | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private subscribed = false;
  /** performance.now() at which the last answered PING (or the SUBSCRIBE) was sent. */
  private confirmedAt = -Infinity;

  /** `open` gives a new, not yet connected, connection to the store's Redis. */
  constructor(
    private readonly open: () => Redis,
    private readonly logger: Logger,
  ) {}

  get live(): boolean {
    return this.subscribed && performance.now() - this.confirmedAt <= STALE_AFTER_MS;
  }

  listen(listener: InvalidationListener): void {
    this.listeners.add(listener);
    if (this.subscriber) return;
    const subscriber = (this.subscriber = this.open());
    subscriber.on('message', (_channel: string, keyHash: string) => this.deliver(keyHash));
    subscriber.on('ready', () => void this.subscribe(subscriber));
    // Whichever comes first: an end of stream or a socket error is handled before a request read in the same
    // poll (see SessionReadCache.drained), 'close' only after it. Outages themselves are the store's to report.
    subscriber.on('connect', () => subscriber.stream.once('end', () => this.lost()));
    subscriber.on('error', () => this.lost());
    subscriber.on('close', () => this.lost());
    subscriber.connect().catch(() => undefined);
    this.heartbeat = setInterval(() => this.beat(subscriber), HEARTBEAT_MS).unref();
  }

  /** This instance's own change: delivered at once rather than when its message comes back. */
  deliver(keyHash: string): void {
    for (const listener of this.listeners) listener.invalidated(keyHash);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.subscribed = false;
    const subscriber = this.subscriber;
    if (!subscriber || subscriber.status === 'end') return;
    await subscriber.quit().catch(() => undefined);
    // Also closes what QUIT leaves open: behind Sentinel, the failover detector's subscriptions to the sentinels.
    subscriber.disconnect();
  }

  private async subscribe(subscriber: Redis): Promise<void> {
    const sent = performance.now();
    try {
      await subscriber.subscribe(INVALIDATION_CHANNEL);
    } catch {
      subscriber.disconnect(true);
      return;
    }
    this.subscribed = true;
    this.confirmedAt = sent;
    this.logger.debug('session invalidations: subscribed');
  }

  private beat(subscriber: Redis): void {
    if (!this.subscribed) return;
    const sent = performance.now();
    subscriber.ping().then(
      () => (this.confirmedAt = Math.max(this.confirmedAt, sent)),
      // Unanswered within the command timeout: the connection is stuck, so start a new one (and reset).
      () => subscriber.disconnect(true),
    );
  }

  private lost(): void {
    if (this.subscribed) this.logger.warn('session invalidations: connection lost; every read goes to Redis until it is back');
    this.subscribed = false;
    for (const listener of this.listeners) listener.reset();
  }
}
