import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { waitFor } from './redis-cluster.fixture.js';
import { keepingNothing, killRedis, launchRedis, onlyAclUser } from './redis.fixture.js';

const NAME = 'sessiongate';

export interface RedisSentinelFixture {
  /** The gateway's settings for this deployment (REDIS_SENTINELS, REDIS_SENTINEL_NAME and the passwords). */
  readonly env: Readonly<Record<string, string>>;
  /** The port of the master, as the sentinels name it now. */
  masterPort(): Promise<number>;
  /** A plain client on the current master, for assertions (the caller disconnects it). */
  master(): Promise<Redis>;
  /** Waits until every replica holds every write the master has (replication is asynchronous). */
  waitForReplication(): Promise<void>;
  /** `SENTINEL FAILOVER`: promotes the replica; resolves once the sentinels name it and it takes writes. */
  failover(): Promise<void>;
  /** Kills the master (SIGKILL, a crash); resolves once the sentinels have promoted the replica. */
  killMaster(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private Sentinel deployment on free loopback ports: a master, one replica and three sentinels
 * (quorum 2, the master deemed down after 1 s without an answer), configured in a temporary folder
 * removed on stop. Nothing is persisted to disk: what survives a failover is what was replicated.
 * The data nodes take only an ACL user (`gateway`), the sentinels a password of their own.
 */
export async function startRedisSentinel(): Promise<RedisSentinelFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-redis-sentinel-'));
  const [username, password, sentinelPassword] = [
    'gateway',
    `pw-${randomBytes(8).toString('hex')}`,
    `sentinel-pw-${randomBytes(8).toString('hex')}`,
  ];
  const servers = new Map<number, ChildProcess>();
  const sentinels: Redis[] = [];
  const stop = async () => {
    for (const client of sentinels) client.disconnect();
    await Promise.all([...servers.values()].map(killRedis));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [masterPort, replicaPort] = [await freePort(), await freePort()];
    const data = [
      // Its own folder: a replica's full sync writes an RDB file, which a redis-server started in the
      // current folder would load.
      '--bind',
      '127.0.0.1',
      ...keepingNothing(dir),
      ...onlyAclUser(username, password, ['~*', '&*']),
      '--masteruser',
      username,
      '--masterauth',
      password,
    ];
    servers.set(masterPort, await launchRedis(['--port', String(masterPort), ...data]));
    servers.set(replicaPort, await launchRedis(['--port', String(replicaPort), ...data, '--replicaof', '127.0.0.1', String(masterPort)]));
    for (let sentinel = 0; sentinel < 3; sentinel++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${port}.conf`);
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${NAME} 1000`,
          `sentinel failover-timeout ${NAME} 10000`,
          `sentinel auth-user ${NAME} ${username}`,
          `sentinel auth-pass ${NAME} ${password}`,
          `requirepass ${sentinelPassword}`,
          `sentinel sentinel-pass ${sentinelPassword}`,
          '',
        ].join('\n'),
      );
      servers.set(port, await launchRedis([file, '--sentinel'], 'Sentinel ID is'));
      sentinels.push(new Redis({ host: '127.0.0.1', port, password: sentinelPassword, lazyConnect: true, maxRetriesPerRequest: 1 }));
    }
    await Promise.all(sentinels.map((client) => client.connect()));
    // A failover needs the replica known to the sentinels, and a vote (after a crash) the other sentinels.
    await waitFor(async () => {
      const views = await Promise.all(
        sentinels.map(
          async (client) =>
            [await client.call('SENTINEL', 'REPLICAS', NAME), await client.call('SENTINEL', 'SENTINELS', NAME)] as unknown[][],
        ),
      );
      return views.every(([replicas, others]) => replicas!.length === 1 && others!.length === 2);
    }, 'the sentinels to know the replica and each other');
  } catch (error) {
    await stop();
    throw error;
  }

  const masterPortNow = async () =>
    Number(((await sentinels[0]!.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as [string, string])[1]);
  const client = (port: number) => new Redis({ host: '127.0.0.1', port, username, password, maxRetriesPerRequest: 1 });
  const promoted = async (from: number) => {
    await waitFor(
      async () => {
        const ports = await Promise.all(
          sentinels.map(async (sentinel) =>
            Number(((await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as [string, string])[1]),
          ),
        );
        if (ports.some((port) => port === from || port !== ports[0])) return false;
        const master = client(ports[0]!);
        try {
          return ((await master.call('ROLE')) as [string])[0] === 'master';
        } finally {
          master.disconnect();
        }
      },
      'the sentinels to promote the replica',
      30_000,
    );
  };
  return {
    env: {
      REDIS_SENTINELS: sentinels.map((sentinel) => `127.0.0.1:${sentinel.options.port}`).join(','),
      REDIS_SENTINEL_NAME: NAME,
      REDIS_SENTINEL_PASSWORD: sentinelPassword,
      REDIS_USERNAME: username,
      REDIS_PASSWORD: password,
    },
    masterPort: masterPortNow,
    async master() {
      return client(await masterPortNow());
    },
    async waitForReplication() {
      const master = client(await masterPortNow());
      try {
        await waitFor(async () => {
          const info = (await master.info('replication')).split('\r\n');
          const offset = Number(info.find((line) => line.startsWith('master_repl_offset:'))!.split(':')[1]);
          const replicas = info.filter((line) => /^slave\d+:/.test(line));
          return replicas.length > 0 && replicas.every((line) => Number(/offset=(\d+)/.exec(line)![1]) >= offset);
        }, 'the replica to catch up');
      } finally {
        master.disconnect();
      }
    },
    async failover() {
      const from = await masterPortNow();
      await sentinels[0]!.call('SENTINEL', 'FAILOVER', NAME);
      await promoted(from);
    },
    async killMaster() {
      const from = await masterPortNow();
      await killRedis(servers.get(from)!);
      await promoted(from);
    },
    stop,
  };
}
