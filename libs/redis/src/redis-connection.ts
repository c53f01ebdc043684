import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '#sessiongate/config';

/** A standalone (or Sentinel-managed) connection, or a Cluster: the same commands and Lua scripts on each. */
export type RedisConnection = Redis | Cluster;

export interface RedisConnectionOptions {
  /** Every connection attempt and command gets an answer or an error within this. */
  readonly timeoutMs: number;
  readonly scripts: Readonly<Record<string, { readonly lua: string; readonly numberOfKeys: number }>>;
}

const retry = (attempt: number) => Math.min(attempt * 100, 1000);

/**
 * The one place a Redis connection is made, for whichever topology the configuration names. Neither
 * connects nor queues: the caller connects (lazyConnect), and while the connection is down every
 * command fails at once rather than waiting (a request gets its 503 at once, and a command its caller
 * already gave up on is never sent later); reconnecting goes on by itself.
 */
export function createRedisConnection(config: RedisConfig, { timeoutMs, scripts }: RedisConnectionOptions): RedisConnection {
  const tls = config.tls && (config.tls.ca === undefined ? {} : { ca: config.tls.ca });
  const node: RedisOptions = {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    username: config.username,
    password: config.password,
    tls,
  };
  const client = {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Commands issued in one event-loop turn (many proxied requests at once) go out in one write
    // and come back in one read: fewer syscalls per request, still one round trip each.
    enableAutoPipelining: true,
    scripts,
  };
  const { topology } = config;
  switch (topology.kind) {
    case 'standalone':
      // The URL's user, password and rediss:// win over the (unset) ones above.
      return new Redis(topology.url, { ...node, ...client, retryStrategy: retry });
    case 'sentinel':
      return new Redis({
        ...node,
        ...client,
        retryStrategy: retry,
        sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
        name: topology.name,
        sentinelPassword: topology.sentinelPassword,
        sentinelCommandTimeout: timeoutMs,
        sentinelRetryStrategy: retry,
        enableTLSForSentinelMode: tls !== undefined,
        sentinelTLS: tls,
        // Told by the sentinels (+switch-master) that the master moved, rather than finding out from a
        // failing command; a demoted master that still answers refuses writes (READONLY): reconnect,
        // which asks the sentinels for the new one. The failed command is not resent (its caller got a 503).
        failoverDetector: true,
        reconnectOnError: (error) => error.message.startsWith('READONLY'),
      });
    case 'cluster':
      return new Cluster(
        topology.nodes.map(({ host, port }) => ({ host, port })),
        {
          ...client,
          redisOptions: node,
          clusterRetryStrategy: retry,
          slotsRefreshTimeout: timeoutMs,
          // With TLS, connect to nodes by the names they announce, so that certificates naming hosts verify.
          ...(tls && { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) }),
        },
      );
  }
}
