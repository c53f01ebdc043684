import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import {
  audienceKey,
  type Clock,
  RefreshLockStore,
  SessionError,
  SessionErrorCode,
  type SessionService,
  sessionKeyHash,
  StoreBackend,
} from '#sessiongate/session';
import {
  freePort,
  ManualClock,
  minimalGatewayEnv,
  pendingLogin,
  type RedisFixture,
  STORE_TOPOLOGIES,
  type SessionModuleFixture,
  startSessionModule,
  startStoreTopologies,
  startTlsRedis,
  type StoreTopologiesFixture,
  typicalSession,
} from '#sessiongate/testing';

// What the stores share: the backend the settings choose (Redis or in process), what Redis holds,
// how the stores behave when Redis fails, TLS, and SessionModule's start and shutdown.

const IDLE_SECONDS = 60;
const ABSOLUTE_SECONDS = 300;
const LOGIN_SECONDS = 120;

interface Gateway extends SessionModuleFixture {
  readonly store: StoreBackend;
}

interface GatewayOptions {
  readonly redisUrl?: string;
  readonly clock?: Clock;
  readonly env?: Record<string, string>;
}

async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const env = minimalGatewayEnv({
    REDIS_URL: options.redisUrl,
    SESSION_IDLE_TIMEOUT: String(IDLE_SECONDS),
    SESSION_ABSOLUTE_TIMEOUT: String(ABSOLUTE_SECONDS),
    LOGIN_TIMEOUT: String(LOGIN_SECONDS),
    ...options.env,
  });
  const gateway = await startSessionModule(env, { clock: options.clock });
  return { ...gateway, store: gateway.module.get(StoreBackend) };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let topologies: StoreTopologiesFixture;
let redis: RedisFixture;
beforeAll(async () => {
  topologies = await startStoreTopologies();
  redis = topologies.redis;
});
afterAll(() => topologies.stop());

describe.each(STORE_TOPOLOGIES)('the %s store', (store) => {
  it('uses the store the settings ask for', async () => {
    const gateway = await startGateway({ env: topologies.env(store) });
    try {
      expect(gateway.store.kind).toBe(store === 'memory' ? 'memory' : 'redis');
    } finally {
      await gateway.module.close();
    }
  });
});

describe('what the Redis store keeps', () => {
  let gateway: Gateway;

  beforeEach(async () => {
    await redis.client.flushall();
    gateway = await startGateway({ redisUrl: redis.url });
  });
  afterEach(async () => {
    await gateway.module.close();
  });

  async function everythingInRedis(): Promise<string> {
    const keys = await redis.client.keys('*');
    const values = await Promise.all(
      keys.map(async (key) => {
        const type = await redis.client.type(key);
        if (type === 'hash') return JSON.stringify(await redis.client.hgetall(key));
        if (type === 'zset') return JSON.stringify(await redis.client.zrange(key, '0', '-1', 'WITHSCORES'));
        return redis.client.get(key);
      }),
    );
    return [...keys, ...values].join('\n');
  }

  it('lays keys out as sg:{<hash>}:s, sg:{<hash>}:lock and sg:login:{<hash>}, one Cluster slot per session', async () => {
    const { id } = await gateway.sessions.create(typicalSession(Date.now()));
    const loginId = await gateway.sessions.savePendingLogin(pendingLogin(Date.now()));
    await gateway.module.get(RefreshLockStore).acquire(sessionKeyHash(id), 'owner', 5000);
    // The session's own keys, apart from its index entries (sg:sessions, sg:sub:, sg:sid:, sg:pub:; see admin-session-index.test.ts).
    const keys = (await redis.client.keys('*')).filter((key) => !/^sg:(sessions$|sub:|sid:|pub:)/.test(key)).sort();
    expect(keys).toHaveLength(4);
    expect(keys.find((key) => key.startsWith('sg:meta:'))).toBe(
      keys.find((key) => key.endsWith(':s'))!.replace(/^sg:(\{.*\}):s$/, 'sg:meta:$1'),
    );
    const [lock, session, login] = [
      keys.find((key) => key.endsWith(':lock')),
      keys.find((key) => key.endsWith(':s')),
      keys.find((key) => key.startsWith('sg:login:')),
    ];
    expect(login).toMatch(/^sg:login:\{[A-Za-z0-9_-]{43}\}$/);
    expect(session).toMatch(/^sg:\{[A-Za-z0-9_-]{43}\}:s$/);
    expect(lock).toBe(session!.replace(/:s$/, ':lock'));
    expect(keys.join()).not.toContain(id);
    expect(keys.join()).not.toContain(loginId);
  });

  it('keeps no session id, login id, token, claim or PKCE secret in clear', async () => {
    const data = typicalSession(Date.now());
    const { id, publicId } = await gateway.sessions.create(data);
    const login = pendingLogin(Date.now());
    const loginId = await gateway.sessions.savePendingLogin(login);
    const dump = await everythingInRedis();
    const secrets = [
      id,
      loginId,
      publicId,
      data.sub,
      data.idpSessionId!,
      data.tokens.idToken,
      data.tokens.accessTokens[audienceKey()]!.value,
      data.tokens.refreshToken!,
      login.state,
      login.nonce,
      login.codeVerifier,
      'alice@example.com',
    ];
    for (const secret of secrets) expect(dump).not.toContain(secret);
    // Not even a part of a token: the JWT header and signature segments.
    for (const segment of data.tokens.accessTokens[audienceKey()]!.value.split('.')) expect(dump).not.toContain(segment);
  });

  it('stores a typical session in at most 4 KB', async () => {
    await gateway.sessions.create(typicalSession(Date.now()));
    const [key] = await redis.client.keys('sg:{*');
    const bytes = Number(await redis.client.call('MEMORY', 'USAGE', key!, 'SAMPLES', '0'));
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(4096);
  });

  it('sets a TTL that slides with reads and never reaches past the absolute expiry', async () => {
    const created = await gateway.sessions.create({ ...typicalSession(Date.now()), absoluteExpiresAt: Date.now() + 20_000 });
    const [key] = await redis.client.keys('sg:{*');
    expect(await redis.client.pttl(key!)).toBeLessThanOrEqual(20_000);
    await gateway.sessions.read(created.id);
    expect(await redis.client.pttl(key!)).toBeLessThanOrEqual(20_000);

    const long = await gateway.sessions.create(typicalSession(Date.now()));
    const longKey = (await redis.client.keys('sg:{*')).find((candidate) => candidate !== key)!;
    await redis.client.pexpire(longKey, 5_000);
    await gateway.sessions.read(long.id);
    expect(await redis.client.pttl(longKey)).toBeGreaterThan((IDLE_SECONDS - 5) * 1000);
    expect(await redis.client.pttl(longKey)).toBeLessThanOrEqual(IDLE_SECONDS * 1000);
  });

  it('forgets a session and a pending login when their TTL runs out in Redis', async () => {
    // Index keys live until the absolute expiry: 2 s here, so everything is gone by the end.
    const short = await startGateway({
      redisUrl: redis.url,
      env: { SESSION_IDLE_TIMEOUT: '1', SESSION_ABSOLUTE_TIMEOUT: '2', LOGIN_TIMEOUT: '1' },
    });
    try {
      const { id } = await short.sessions.create(typicalSession(Date.now()));
      const loginId = await short.sessions.savePendingLogin(pendingLogin(Date.now()));
      await sleep(600);
      expect(await short.sessions.read(id)).not.toBeNull();
      await sleep(600);
      expect(await short.sessions.read(id)).not.toBeNull();
      await sleep(1100);
      expect(await redis.client.dbsize()).toBe(0);
      expect(await short.sessions.read(id)).toBeNull();
      expect(await short.sessions.takePendingLogin(loginId)).toBeNull();
    } finally {
      await short.module.close();
    }
  });

  it('deletes a session whose ciphertext was tampered with, and reads it as none', async () => {
    const { id } = await gateway.sessions.create(typicalSession(Date.now()));
    const [key] = await redis.client.keys('sg:{*');
    const blob = (await redis.client.hget(key!, 'd'))!;
    const flipped = `${blob.slice(0, -5)}${blob.at(-5) === 'A' ? 'B' : 'A'}${blob.slice(-4)}`;
    await redis.client.hset(key!, 'd', flipped);
    expect(await gateway.sessions.read(id)).toBeNull();
    expect(await redis.client.exists(key!)).toBe(0);
  });

  it('reads a record with missing or garbled plaintext fields as none, and deletes it', async () => {
    const { id } = await gateway.sessions.create(typicalSession(Date.now()));
    const [key] = await redis.client.keys('sg:{*');
    await redis.client.hset(key!, 'a', 'soon');
    expect(await gateway.sessions.read(id)).toBeNull();
    expect(await redis.client.exists(key!)).toBe(0);
  });

  it('refuses a blob copied from another session', async () => {
    const victim = await gateway.sessions.create(typicalSession(Date.now()));
    const victimKey = (await redis.client.keys('sg:{*'))[0]!;
    const attacker = await gateway.sessions.create(typicalSession(Date.now()));
    const attackerKey = (await redis.client.keys('sg:{*')).find((key) => key !== victimKey)!;
    await redis.client.hset(attackerKey, 'd', (await redis.client.hget(victimKey, 'd'))!);
    expect(await gateway.sessions.read(attacker.id)).toBeNull();
    expect(await gateway.sessions.read(victim.id)).not.toBeNull();
  });

  it('never honours a plaintext absolute expiry pushed later', async () => {
    const clock = new ManualClock();
    const tampered = await startGateway({ redisUrl: redis.url, clock });
    try {
      const created = await tampered.sessions.create(typicalSession(clock.now()));
      const [key] = await redis.client.keys('sg:{*');
      await redis.client.hset(key!, 'a', String(created.absoluteExpiresAt + 10_000_000));
      clock.advance(ABSOLUTE_SECONDS);
      await redis.client.hset(key!, 'i', String(clock.now() + 10_000_000));
      expect(await tampered.sessions.read(created.id)).toBeNull();
    } finally {
      await tampered.module.close();
    }
  });
});

describe('when Redis fails', () => {
  it('answers session_store_unavailable (503) quickly while Redis is down, and recovers by itself', async () => {
    const gateway = await startGateway({ redisUrl: redis.url });
    try {
      const { id } = await gateway.sessions.create(typicalSession(Date.now()));
      await redis.kill();
      for (const attempt of [
        () => gateway.sessions.read(id),
        () => gateway.sessions.create(typicalSession(Date.now())),
        () => gateway.sessions.savePendingLogin(pendingLogin(Date.now())),
      ]) {
        const started = Date.now();
        const error = await failure(attempt());
        expect(Date.now() - started).toBeLessThan(3000);
        expect(error).toBeInstanceOf(SessionError);
        expect(error).toMatchObject({ code: SessionErrorCode.StoreUnavailable, status: 503 });
      }

      await redis.restart();
      const deadline = Date.now() + 5000;
      let recovered: Awaited<ReturnType<SessionService['create']>> | undefined;
      while (!recovered && Date.now() < deadline) {
        recovered = await gateway.sessions.create(typicalSession(Date.now())).catch(() => undefined);
        if (!recovered) await sleep(100);
      }
      expect(recovered).toBeDefined();
      expect(await gateway.sessions.read(recovered!.id)).not.toBeNull();
      // The restarted Redis kept nothing: the old session is gone, not an error.
      expect(await gateway.sessions.read(id)).toBeNull();
      expect(gateway.logs.join()).toContain('session store (Redis) unreachable');
      expect(gateway.logs.join()).toContain('session store (Redis) reachable again');
    } finally {
      await gateway.module.close();
      await redis.restart();
    }
  });

  it('never hangs on a Redis that accepts connections but never answers, and never logs its password', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => void sockets.add(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    const started = Date.now();
    const gateway = await startGateway({ redisUrl: `redis://:hunter2-secret@127.0.0.1:${port}` });
    try {
      expect(Date.now() - started).toBeLessThan(3000);
      const request = Date.now();
      expect(await failure(gateway.sessions.read(randomBytes(32).toString('base64url')))).toMatchObject({
        code: SessionErrorCode.StoreUnavailable,
      });
      expect(Date.now() - request).toBeLessThan(3000);
      expect(gateway.logs.join()).not.toContain('hunter2');
    } finally {
      await gateway.module.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('starts while Redis is unreachable, fails requests with 503, and logs why without the password', async () => {
    const port = await freePort();
    const gateway = await startGateway({ redisUrl: `redis://:hunter2-secret@127.0.0.1:${port}` });
    try {
      expect(await failure(gateway.sessions.takePendingLogin(randomBytes(32).toString('base64url')))).toMatchObject({
        code: SessionErrorCode.StoreUnavailable,
        status: 503,
      });
      expect(gateway.logs.join()).toContain('ECONNREFUSED');
      expect(gateway.logs.join()).not.toContain('hunter2');
    } finally {
      await gateway.module.close();
    }
  });
});

describe('a Redis that needs TLS and an ACL user', () => {
  it('is used with rediss://, the user and password in the URL and REDIS_TLS_CA_FILE; refused without the CA or with a wrong password, never logging it', async () => {
    const tls = await startTlsRedis();
    try {
      const gateway = await startGateway({ redisUrl: tls.url, env: { REDIS_TLS_CA_FILE: tls.caFile } });
      try {
        const { id } = await gateway.sessions.create(typicalSession(Date.now()));
        expect(await gateway.sessions.read(id)).not.toBeNull();
      } finally {
        await gateway.module.close();
      }
      for (const [url, env] of [
        [tls.url, {}],
        [tls.url.replace(tls.password, 'wrong-password'), { REDIS_TLS_CA_FILE: tls.caFile }],
      ] as const) {
        const refused = await startGateway({ redisUrl: url, env });
        try {
          expect(await failure(refused.sessions.create(typicalSession(Date.now())))).toMatchObject({
            code: SessionErrorCode.StoreUnavailable,
            status: 503,
          });
          expect(refused.logs.join()).not.toMatch(new RegExp(`${tls.password}|wrong-password`));
        } finally {
          await refused.module.close();
        }
      }
    } finally {
      await tls.stop();
    }
  });
});

describe('SessionModule', () => {
  it('warns loudly when it falls back to the in-process store', async () => {
    const gateway = await startGateway({});
    try {
      const warning = gateway.logs
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .find((line) => line.msg.includes('REDIS_URL is unset'));
      expect(warning?.level).toBe(40);
    } finally {
      await gateway.module.close();
    }
  });

  it('closes its Redis connections (commands and invalidations) on shutdown', async () => {
    const gateway = await startGateway({ redisUrl: redis.url });
    await gateway.sessions.create(typicalSession(Date.now()));
    const clients = async (type: 'normal' | 'pubsub') =>
      ((await redis.client.call('CLIENT', 'LIST', 'TYPE', type)) as string).trim().split('\n').filter(Boolean).length;
    while ((await clients('pubsub')) === 0) await sleep(10);
    const normalWhileUp = await clients('normal');
    await gateway.module.close();
    await sleep(100);
    expect(await clients('normal')).toBe(normalWhileUp - 1);
    expect(await clients('pubsub')).toBe(0);
  });
});
