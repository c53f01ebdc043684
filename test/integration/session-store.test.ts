import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import pino from 'pino';
import { ConfigModule, loadConfig } from '#sessiongate/config';
import { ObservabilityModule } from '#sessiongate/observability';
import {
  audienceKey,
  Clock,
  type NewSession,
  type PendingLogin,
  RateCounter,
  SessionError,
  SessionErrorCode,
  SessionModule,
  SessionService,
  SessionStore,
  type TokenSet,
} from '#sessiongate/session';
import {
  freePort,
  ManualClock,
  minimalGatewayEnv,
  type RedisClusterFixture,
  type RedisFixture,
  startRedis,
  startRedisCluster,
  startTlsRedis,
} from '#sessiongate/testing';

const IDLE_SECONDS = 60;
const ABSOLUTE_SECONDS = 300;
const LOGIN_SECONDS = 120;

interface Gateway {
  readonly module: TestingModule;
  readonly sessions: SessionService;
  readonly store: SessionStore;
  /** Every log line the session capability wrote. */
  readonly logs: string[];
}

interface GatewayOptions {
  readonly redisUrl?: string;
  readonly clock?: Clock;
  readonly env?: Record<string, string>;
}

async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const config = loadConfig({
    ...minimalGatewayEnv(),
    REDIS_URL: options.redisUrl,
    SESSION_IDLE_TIMEOUT: String(IDLE_SECONDS),
    SESSION_ABSOLUTE_TIMEOUT: String(ABSOLUTE_SECONDS),
    LOGIN_TIMEOUT: String(LOGIN_SECONDS),
    ...options.env,
  });
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const builder = Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), ObservabilityModule.forRoot(logger), SessionModule],
  });
  if (options.clock) builder.overrideProvider(Clock).useValue(options.clock);
  const module = await builder.compile();
  return { module, sessions: module.get(SessionService), store: module.get(SessionStore), logs };
}

function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT', kid: randomBytes(16).toString('base64url') })}.${part(claims)}.${randomBytes(256).toString('base64url')}`;
}

/** A session of the size a real provider produces: RS256 ID and access tokens, an opaque refresh token. */
function typicalSession(now: number): NewSession {
  const claims = {
    iss: 'https://idp.example.com/realms/main',
    sub: 'f3c1b7d2-8a4e-4c55-9e21-7a0d5b6c9e11',
    aud: 'gateway',
    exp: Math.floor(now / 1000) + 300,
    iat: Math.floor(now / 1000),
    auth_time: Math.floor(now / 1000),
    nonce: randomBytes(32).toString('base64url'),
    sid: randomBytes(16).toString('hex'),
    at_hash: randomBytes(16).toString('base64url'),
    name: 'Alice Example',
    email: 'alice@example.com',
    email_verified: true,
  };
  const tokens: TokenSet = {
    idToken: fakeJwt(claims),
    refreshToken: randomBytes(32).toString('base64url'),
    accessTokens: {
      [audienceKey()]: {
        value: fakeJwt({ ...claims, scope: 'openid profile email offline_access', jti: randomBytes(16).toString('base64url') }),
        expiresAt: now + 300_000,
      },
    },
  };
  return { sub: claims.sub, idpSessionId: claims.sid, claims, tokens };
}

function newTokens(label: string, now: number): TokenSet {
  return {
    idToken: `id-${label}`,
    refreshToken: `refresh-${label}`,
    accessTokens: { [audienceKey()]: { value: `access-${label}`, expiresAt: now + 300_000 } },
  };
}

function pendingLogin(now: number): PendingLogin {
  const random = () => randomBytes(32).toString('base64url');
  return { state: random(), nonce: random(), codeVerifier: random(), returnTo: '/todos', createdAt: now };
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

let redis: RedisFixture;
let cluster: RedisClusterFixture;
beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
});
afterAll(async () => {
  await Promise.all([redis.stop(), cluster.stop()]);
});

/** The same behaviour on every store: a standalone Redis, a Redis Cluster (three masters), and in process. */
const STORES = { redis: () => ({ REDIS_URL: redis.url }), 'Redis Cluster': () => cluster.env, memory: () => ({}) };

describe.each(Object.keys(STORES) as (keyof typeof STORES)[])('sessions in the %s store', (store) => {
  let clock: ManualClock;
  let gateway: Gateway;
  let sessions: SessionService;

  beforeEach(async () => {
    clock = new ManualClock();
    gateway = await startGateway({ clock, env: STORES[store]() });
    sessions = gateway.sessions;
  });
  afterEach(async () => {
    await gateway.module.close();
  });

  it('uses the store the settings ask for', () => {
    expect(gateway.store.kind).toBe(store === 'memory' ? 'memory' : 'redis');
  });

  it('creates a session and reads it back by its id', async () => {
    const data = typicalSession(clock.now());
    const created = await sessions.create(data);
    expect(created.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.publicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(created).toMatchObject({ ...data, version: 1, createdAt: clock.now() });
    expect(created.absoluteExpiresAt).toBe(clock.now() + ABSOLUTE_SECONDS * 1000);
    expect(created.idleExpiresAt).toBe(clock.now() + IDLE_SECONDS * 1000);

    clock.advance(1);
    expect(await sessions.read(created.id)).toEqual({ ...created, idleExpiresAt: clock.now() + IDLE_SECONDS * 1000 });
  });

  it('reads nothing for a malformed, unknown or destroyed id', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    expect(await sessions.read('not-a-session-id')).toBeNull();
    expect(await sessions.read(`${created.id}x`)).toBeNull();
    expect(await sessions.read(randomBytes(32).toString('base64url'))).toBeNull();
    await sessions.destroy(created.id);
    expect(await sessions.read(created.id)).toBeNull();
    await expect(sessions.destroy(created.id)).resolves.toBeUndefined();
    await expect(sessions.destroy('garbage')).resolves.toBeUndefined();
  });

  it('slides the idle expiry on every read', async () => {
    const { id } = await sessions.create(typicalSession(clock.now()));
    for (let step = 0; step < 4; step++) {
      clock.advance(IDLE_SECONDS - 1);
      expect(await sessions.read(id)).not.toBeNull();
    }
    clock.advance(IDLE_SECONDS);
    expect(await sessions.read(id)).toBeNull();
    clock.advance(-IDLE_SECONDS);
    expect(await sessions.read(id)).toBeNull();
  });

  it('never slides the absolute expiry, however active the session', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    let last = created;
    while (clock.now() + 50_000 < created.absoluteExpiresAt) {
      clock.advance(50);
      last = (await sessions.read(created.id))!;
      expect(last.absoluteExpiresAt).toBe(created.absoluteExpiresAt);
      expect(last.idleExpiresAt).toBeLessThanOrEqual(created.absoluteExpiresAt);
    }
    expect(last.idleExpiresAt).toBe(created.absoluteExpiresAt);
    clock.advance(50);
    expect(await sessions.read(created.id)).toBeNull();
  });

  it('ends a session at an earlier absolute expiry the caller asks for', async () => {
    const created = await sessions.create({ ...typicalSession(clock.now()), absoluteExpiresAt: clock.now() + 30_000 });
    expect(created.absoluteExpiresAt).toBe(clock.now() + 30_000);
    expect(created.idleExpiresAt).toBe(clock.now() + 30_000);
    clock.advance(30);
    expect(await sessions.read(created.id)).toBeNull();
  });

  it('keeps only the earlier absolute expiry when a later one is asked for', async () => {
    const created = await sessions.create({ ...typicalSession(clock.now()), absoluteExpiresAt: clock.now() + 10_000_000 });
    expect(created.absoluteExpiresAt).toBe(clock.now() + ABSOLUTE_SECONDS * 1000);
  });

  it('replaces tokens, bumping the version and keeping everything else', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    clock.advance(10);
    const tokens = newTokens('second', clock.now());
    const replaced = await sessions.replaceTokens(created, tokens);
    expect(replaced).toEqual({ ...created, tokens, version: 2, idleExpiresAt: clock.now() + IDLE_SECONDS * 1000 });
    expect(await sessions.read(created.id)).toEqual(replaced);
  });

  it('takes new claims and a shorter absolute expiry on replace, never a longer one', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    const shorter = await sessions.replaceTokens(created, newTokens('a', clock.now()), {
      claims: { sub: created.sub, refreshed: true },
      absoluteExpiresAt: clock.now() + 100_000,
    });
    expect(shorter).toMatchObject({ claims: { sub: created.sub, refreshed: true }, absoluteExpiresAt: clock.now() + 100_000 });
    const longer = await sessions.replaceTokens(shorter!, newTokens('b', clock.now()), { absoluteExpiresAt: clock.now() + 10_000_000 });
    expect(longer!.absoluteExpiresAt).toBe(clock.now() + 100_000);
    expect((await sessions.read(created.id))!.absoluteExpiresAt).toBe(clock.now() + 100_000);
  });

  it('ends the session when a replace asks for an absolute expiry already past', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    expect(await sessions.replaceTokens(created, newTokens('late', clock.now()), { absoluteExpiresAt: clock.now() - 1 })).toBeNull();
    expect(await sessions.read(created.id)).toBeNull();
  });

  it('lets only the first of two writers of one version win', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    const [first, second] = await Promise.all([
      sessions.replaceTokens(created, newTokens('first', clock.now())),
      sessions.replaceTokens(created, newTokens('second', clock.now())),
    ]);
    const winner = first ?? second;
    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect((await sessions.read(created.id))!.tokens).toEqual(winner!.tokens);

    const stale = await sessions.replaceTokens(created, newTokens('stale', clock.now()));
    expect(stale).toBeNull();
    expect((await sessions.read(created.id))!.tokens).toEqual(winner!.tokens);
  });

  it('never brings back a session destroyed while its tokens were refreshed', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    await sessions.destroy(created.id);
    expect(await sessions.replaceTokens(created, newTokens('late', clock.now()))).toBeNull();
    expect(await sessions.read(created.id)).toBeNull();
  });

  it('never brings back a session that expired while its tokens were refreshed', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    clock.advance(IDLE_SECONDS);
    expect(await sessions.replaceTokens(created, newTokens('late', clock.now()))).toBeNull();
    expect(await sessions.read(created.id)).toBeNull();
  });

  it('hands out a pending login exactly once', async () => {
    const login = pendingLogin(clock.now());
    const loginId = await sessions.savePendingLogin(login);
    expect(loginId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [first, second] = await Promise.all([sessions.takePendingLogin(loginId), sessions.takePendingLogin(loginId)]);
    expect([first, second]).toContainEqual(login);
    expect([first, second]).toContainEqual(null);
    expect(await sessions.takePendingLogin(loginId)).toBeNull();
  });

  it('forgets a pending login after LOGIN_TIMEOUT', async () => {
    const fresh = await sessions.savePendingLogin(pendingLogin(clock.now()));
    const stale = await sessions.savePendingLogin(pendingLogin(clock.now()));
    clock.advance(LOGIN_SECONDS - 1);
    expect(await sessions.takePendingLogin(fresh)).not.toBeNull();
    clock.advance(1);
    expect(await sessions.takePendingLogin(stale)).toBeNull();
  });

  it('reads no pending login for a malformed or unknown id', async () => {
    expect(await sessions.takePendingLogin('')).toBeNull();
    expect(await sessions.takePendingLogin('../../etc')).toBeNull();
    expect(await sessions.takePendingLogin(randomBytes(32).toString('base64url'))).toBeNull();
  });

  it('gives the refresh lock to one owner at a time, renewable and releasable only by that owner', async () => {
    const { id } = await sessions.create(typicalSession(clock.now()));
    expect(await sessions.acquireRefreshLock(id, 'instance-a', 5000)).toBe(true);
    expect(await sessions.acquireRefreshLock(id, 'instance-b', 5000)).toBe(false);
    expect(await sessions.renewRefreshLock(id, 'instance-b', 5000)).toBe(false);
    expect(await sessions.renewRefreshLock(id, 'instance-a', 5000)).toBe(true);
    await sessions.releaseRefreshLock(id, 'instance-b');
    expect(await sessions.acquireRefreshLock(id, 'instance-b', 5000)).toBe(false);
    await sessions.releaseRefreshLock(id, 'instance-a');
    expect(await sessions.acquireRefreshLock(id, 'instance-b', 5000)).toBe(true);
  });

  it('frees the refresh lock of an owner that died when its lease runs out', async () => {
    const { id } = await sessions.create(typicalSession(clock.now()));
    expect(await sessions.acquireRefreshLock(id, 'dead-instance', 200)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    clock.advance(1);
    expect(await sessions.renewRefreshLock(id, 'dead-instance', 200)).toBe(false);
    expect(await sessions.acquireRefreshLock(id, 'live-instance', 5000)).toBe(true);
  });

  it('counts hits per name in a window that starts with the first hit and then resets', async () => {
    const counter = gateway.module.get(RateCounter);
    expect(await counter.hit('login\u0000192.0.2.1', 200)).toEqual({ hits: 1, resetsInMs: expect.any(Number) });
    const second = await counter.hit('login\u0000192.0.2.1', 200);
    expect(second.hits).toBe(2);
    expect(second.resetsInMs).toBeGreaterThan(0);
    expect(second.resetsInMs).toBeLessThanOrEqual(200);
    expect((await counter.hit('login\u0000192.0.2.2', 200)).hits).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    clock.advance(300);
    expect((await counter.hit('login\u0000192.0.2.1', 200)).hits).toBe(1);
  });

  it('keeps pending logins and sessions apart', async () => {
    const loginId = await sessions.savePendingLogin(pendingLogin(clock.now()));
    expect(await sessions.read(loginId)).toBeNull();
    const { id } = await sessions.create(typicalSession(clock.now()));
    expect(await sessions.takePendingLogin(id)).toBeNull();
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
    await gateway.sessions.acquireRefreshLock(id, 'owner', 5000);
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
