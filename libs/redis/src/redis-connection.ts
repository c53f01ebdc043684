import type { Duplex } from 'node:stream';
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

/** The part of ioredis's (internal) connector that opens each socket of a connection. */
interface SocketConnector {
  connect(onEvent: unknown): Promise<Duplex>;
}

/**
 * ioredis hears one 'error' per socket (`once`), but a TLS socket whose handshake failed can emit a
 * second one (the server's alert) once ioredis has stopped listening, e.g. while the connection is
 * closed: unheard, that error would end the process. Every socket the connection opens gets a
 * listener of its own; ioredis still hears the first error and reports it as before.
 */
function hearEverySocketError<T extends Redis>(redis: T): T {
  const connector = (redis as unknown as { connector: SocketConnector }).connector;
  const connect = connector.connect.bind(connector);
  connector.connect = async (onEvent) => {
    const socket = await connect(onEvent);
    socket.on('error', ignoreSocketError);
    return socket;
  };
  return redis;
}

function ignoreSocketError(): void {}

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
      return hearEverySocketError(new Redis(topology.url, { ...node, ...client, retryStrategy: retry }));
    case 'sentinel':
      return hearEverySocketError(
        new Redis({
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
        }),
      );
    case 'cluster': {
      const cluster = new Cluster(
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
      // Each node's connection is made by the Cluster; it announces it before it connects.
      cluster.on('+node', (node: Redis) => hearEverySocketError(node));
      return cluster;
    }
  }
}

/** Another connection to the same Redis with some options changed (the invalidation feed's subscriber). */
export function duplicateConnection(redis: Redis, override: Partial<RedisOptions>): Redis {
  return hearEverySocketError(redis.duplicate(override));
}
