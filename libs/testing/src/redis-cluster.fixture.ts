import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { freePort } from './free-port.js';
import { keepingNothing, killRedis, launchRedis, onlyAclUser } from './redis.fixture.js';

const run = promisify(execFile);

export interface RedisClusterFixture {
  /** The gateway's settings for this cluster (REDIS_CLUSTER_NODES, and its ACL user: REDIS_USERNAME, REDIS_PASSWORD). */
  readonly env: Readonly<Record<string, string>>;
  readonly ports: readonly number[];
  /** A plain cluster client for assertions on what the gateway stored. */
  readonly client: Cluster;
  /** Empties every master. */
  flushall(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private Redis Cluster of three masters (no replicas) on free loopback ports, joined by
 * `redis-cli --cluster create`, its node files in a temporary folder removed on stop. Only an ACL
 * user (`gateway`, a random password) may use it: the default user is off.
 */
export async function startRedisCluster(): Promise<RedisClusterFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-redis-cluster-'));
  const [username, password] = ['gateway', `pw-${randomBytes(8).toString('hex')}`];
  const cli = (...args: string[]) => run('redis-cli', ['--user', username, ...args], { env: { ...process.env, REDISCLI_AUTH: password } });
  const servers: ChildProcess[] = [];
  const ports: number[] = [];
  try {
    for (let node = 0; node < 3; node++) {
      // The bus port too: the default (port + 10000) may be taken, or past 65535.
      const [port, busPort] = [await freePort(), await freePort()];
      ports.push(port);
      servers.push(
        await launchRedis([
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          ...keepingNothing(dir),
          ...onlyAclUser(username, password, ['~*', '&*']),
        ]),
      );
    }
    await cli('--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes');
    await waitFor(async () => {
      const states = await Promise.all(ports.map((port) => cli('-p', String(port), 'cluster', 'info').then(({ stdout }) => stdout)));
      return states.every((info) => info.includes('cluster_state:ok'));
    }, 'the cluster to be ok');
  } catch (error) {
    await Promise.all(servers.map(killRedis));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const client = new Cluster(
    ports.map((port) => ({ host: '127.0.0.1', port })),
    { lazyConnect: true, redisOptions: { username, password } },
  );
  await client.connect();
  return {
    env: { REDIS_CLUSTER_NODES: ports.map((port) => `127.0.0.1:${port}`).join(','), REDIS_USERNAME: username, REDIS_PASSWORD: password },
    ports,
    client,
    async flushall() {
      await Promise.all(client.nodes('master').map((node) => node.flushall()));
    },
    async stop() {
      client.disconnect();
      await Promise.all(servers.map(killRedis));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 50 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
