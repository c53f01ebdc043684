import { Redis } from 'ioredis';
import { startRedisCluster } from './redis-cluster.fixture.js';
import { startRedisSentinel } from './redis-sentinel.fixture.js';

test('starts a three-master cluster serving every slot, and removes it on stop', async () => {
  const cluster = await startRedisCluster();
  try {
    expect(cluster.client.nodes('master')).toHaveLength(3);
    // Keys spread over the slots of all three masters.
    await Promise.all(Array.from({ length: 30 }, (_, n) => cluster.client.set(`k${n}`, String(n))));
    expect(await cluster.client.get('k29')).toBe('29');
    await cluster.flushall();
    expect(await cluster.client.get('k29')).toBeNull();
  } finally {
    await cluster.stop();
  }
  await expect(new Redis({ port: cluster.ports[0], lazyConnect: true, retryStrategy: () => null }).connect()).rejects.toThrow();
});

test('starts a master, a replica and three sentinels; a failover keeps what was replicated', async () => {
  const sentinel = await startRedisSentinel();
  try {
    const before = await sentinel.masterPort();
    const master = await sentinel.master();
    await master.set('kept', 'yes');
    master.disconnect();
    await sentinel.waitForReplication();
    await sentinel.failover();
    expect(await sentinel.masterPort()).not.toBe(before);
    const promoted = await sentinel.master();
    expect(await promoted.get('kept')).toBe('yes');
    promoted.disconnect();
  } finally {
    await sentinel.stop();
  }
});
