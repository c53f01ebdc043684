import { type RedisClusterFixture, startRedisCluster } from './redis-cluster.fixture.js';
import { type RedisFixture, startRedis } from './redis.fixture.js';

/** What every store contract runs on: a standalone Redis, a Redis Cluster (three masters), and in process. */
export const STORE_TOPOLOGIES = ['redis', 'Redis Cluster', 'memory'] as const;

export type StoreTopology = (typeof STORE_TOPOLOGIES)[number];

export interface StoreTopologiesFixture {
  readonly redis: RedisFixture;
  readonly cluster: RedisClusterFixture;
  /** The gateway's settings for the topology (none for the in-process store). */
  env(topology: StoreTopology): Record<string, string>;
  /** Empties the topology's Redis. */
  flush(topology: StoreTopology): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a private standalone Redis and a private Redis Cluster, for suites that run on every STORE_TOPOLOGIES. */
export async function startStoreTopologies(): Promise<StoreTopologiesFixture> {
  const [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  return {
    redis,
    cluster,
    env: (topology) => (topology === 'redis' ? { REDIS_URL: redis.url } : topology === 'Redis Cluster' ? { ...cluster.env } : {}),
    async flush(topology) {
      if (topology === 'redis') await redis.client.flushall();
      else if (topology === 'Redis Cluster') await cluster.flushall();
    },
    async stop() {
      await Promise.all([redis.stop(), cluster.stop()]);
    },
  };
}
