import { randomBytes } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import pino from 'pino';
import { ConfigModule, loadConfig } from '#sessiongate/config';
import { ObservabilityModule } from '#sessiongate/observability';
import { audienceKey, Clock, type NewSession, SessionDirectory, SessionError, SessionModule, SessionService } from '#sessiongate/session';
import {
  ManualClock,
  minimalGatewayEnv,
  type RedisClusterFixture,
  type RedisFixture,
  startRedis,
  startRedisCluster,
} from '#sessiongate/testing';

// The session indexes (by user, provider session, public id, and all sessions) and the directory
// built on them, against a real standalone Redis, a real Redis Cluster and the in-process store: all
// must behave the same.

const IDLE_SECONDS = 60;
const ABSOLUTE_SECONDS = 600;
const TOUCH_INTERVAL_SECONDS = 10;

interface Gateway {
  readonly module: TestingModule;
  readonly sessions: SessionService;
  readonly directory: SessionDirectory;
  readonly logs: string[];
}

async function startGateway(redisUrl: string | undefined, clock: Clock, env: Record<string, string> = {}): Promise<Gateway> {
  const config = loadConfig({
    ...minimalGatewayEnv(),
    REDIS_URL: redisUrl,
    SESSION_IDLE_TIMEOUT: String(IDLE_SECONDS),
    SESSION_ABSOLUTE_TIMEOUT: String(ABSOLUTE_SECONDS),
    SESSION_TOUCH_INTERVAL: String(TOUCH_INTERVAL_SECONDS),
    ...env,
  });
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const module = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), ObservabilityModule.forRoot(logger), SessionModule],
  })
    .overrideProvider(Clock)
    .useValue(clock)
    .compile();
  return {
    module,
    sessions: module.get(SessionService),
    directory: module.get(SessionDirectory),
    logs,
  };
}

function session(sub: string, sid = randomBytes(8).toString('hex'), extra: Partial<NewSession> = {}): NewSession {
  return {
    sub,
    idpSessionId: sid,
    claims: { sub, sid },
    tokens: {
      idToken: `id-${randomBytes(8).toString('hex')}`,
      refreshToken: `refresh-${randomBytes(8).toString('hex')}`,
      accessTokens: { [audienceKey()]: { value: `access-${randomBytes(8).toString('hex')}`, expiresAt: Date.now() + 300_000 } },
    },
    ...extra,
  };
}

let redis: RedisFixture;
let cluster: RedisClusterFixture;
beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
});
afterAll(async () => {
  await Promise.all([redis.stop(), cluster.stop()]);
});

const STORES = {
  redis: { env: () => ({ REDIS_URL: redis.url }), flush: () => redis.client.flushall() },
  'Redis Cluster': { env: () => cluster.env, flush: () => cluster.flushall() },
  memory: { env: () => ({}), flush: async () => undefined },
};

describe.each(Object.keys(STORES) as (keyof typeof STORES)[])('the session directory on the %s store', (store) => {
  let clock: ManualClock;
  let gateway: Gateway;

  beforeEach(async () => {
    await STORES[store].flush();
    clock = new ManualClock();
    gateway = await startGateway(undefined, clock, STORES[store].env());
  });
  afterEach(async () => {
    await gateway.module.close();
  });

  it('lists every session page by page, each once, never showing a token', async () => {
    const created = [];
    for (let n = 0; n < 5; n++) {
      created.push(
        await gateway.sessions.create(session(n % 2 ? 'bob' : 'alice', undefined, { userAgent: `agent ${n}`, ip: '127.0.0.1' })),
      );
      clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await gateway.directory.list({ cursor, limit: 2 });
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions.map((summary) => summary.publicId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    // Ordered by absolute expiry, i.e. here by creation.
    expect(seen).toEqual(created.map((one) => one.publicId));

    const [first] = (await gateway.directory.list({ limit: 1 })).sessions;
    expect(first).toEqual({
      publicId: created[0]!.publicId,
      sub: 'alice',
      idpSessionId: created[0]!.idpSessionId,
      createdAt: created[0]!.createdAt,
      lastSeenAt: created[0]!.createdAt,
      idleExpiresAt: created[0]!.idleExpiresAt,
      absoluteExpiresAt: created[0]!.absoluteExpiresAt,
      userAgent: 'agent 0',
      ip: '127.0.0.1',
      hasRefreshToken: true,
      accessTokens: [{ audienceKey: audienceKey(), expiresAt: created[0]!.tokens.accessTokens[audienceKey()]!.expiresAt }],
      // The names of its third-party connections (docs/CONNECTIONS.md): none here.
      connections: [],
    });
    expect(JSON.stringify(first)).not.toMatch(/refresh-|access-|id-/);
  });

  it("lists one user's sessions only, and finds a session by its public id without touching it", async () => {
    const alice = [await gateway.sessions.create(session('alice')), await gateway.sessions.create(session('alice'))];
    const bob = await gateway.sessions.create(session('bob'));
    const listed = await gateway.directory.list({ sub: 'alice', limit: 50 });
    expect(listed.sessions.map((summary) => summary.publicId).sort()).toEqual(alice.map((one) => one.publicId).sort());
    expect(listed.nextCursor).toBeUndefined();
    expect((await gateway.directory.list({ sub: 'carol', limit: 50 })).sessions).toEqual([]);

    clock.advance(30);
    const found = await gateway.directory.find(bob.publicId);
    expect(found).toMatchObject({ publicId: bob.publicId, sub: 'bob', idleExpiresAt: bob.idleExpiresAt });
    expect(await gateway.directory.find(bob.publicId, { sub: 'alice' })).toBeNull();
    expect(await gateway.directory.find(randomBytes(16).toString('base64url'))).toBeNull();
    // Looking did not extend it.
    clock.advance(IDLE_SECONDS - 30);
    expect(await gateway.sessions.read(bob.id)).toBeNull();
  });

  it('revokes by public id, by user and by provider session, handing back refresh tokens to revoke at the provider', async () => {
    const one = await gateway.sessions.create(session('alice', 'sid-1'));
    const two = await gateway.sessions.create(session('alice', 'sid-2'));
    const three = await gateway.sessions.create(session('alice', 'sid-2'));
    const bobs = await gateway.sessions.create(session('bob', 'sid-2'));
    const other = await gateway.sessions.create(session('carol'));

    expect(await gateway.directory.revokeByPublicId(one.publicId, { sub: 'bob' })).toBeNull();
    expect(await gateway.sessions.read(one.id)).not.toBeNull();
    expect(await gateway.directory.revokeByPublicId(one.publicId)).toEqual({
      publicId: one.publicId,
      sub: 'alice',
      refreshToken: one.tokens.refreshToken,
    });
    expect(await gateway.sessions.read(one.id)).toBeNull();
    expect(await gateway.directory.revokeByPublicId(one.publicId)).toBeNull();

    const bySid = await gateway.directory.revokeByIdpSessionId('sid-2', { sub: 'alice' });
    expect(bySid.map((revoked) => revoked.publicId).sort()).toEqual([two.publicId, three.publicId].sort());
    expect(await gateway.sessions.read(bobs.id)).not.toBeNull();
    expect((await gateway.directory.revokeByIdpSessionId('sid-2')).map((revoked) => revoked.refreshToken)).toEqual([
      bobs.tokens.refreshToken,
    ]);

    const again = await gateway.sessions.create(session('carol'));
    expect((await gateway.directory.revokeBySub('carol')).map((revoked) => revoked.publicId).sort()).toEqual(
      [other.publicId, again.publicId].sort(),
    );
    expect(await gateway.directory.revokeBySub('carol')).toEqual([]);
    expect((await gateway.directory.list({ limit: 50 })).sessions).toEqual([]);
  });

  it('drops sessions that idled out or were logged out from every listing', async () => {
    const idle = await gateway.sessions.create(session('alice', 'sid-idle'));
    const active = await gateway.sessions.create(session('alice', 'sid-active'));
    const loggedOut = await gateway.sessions.create(session('alice', 'sid-out'));
    await gateway.sessions.destroy(loggedOut.id);
    clock.advance(IDLE_SECONDS / 2);
    await gateway.sessions.read(active.id);
    clock.advance(IDLE_SECONDS / 2);
    expect((await gateway.directory.list({ limit: 50 })).sessions.map((summary) => summary.publicId)).toEqual([active.publicId]);
    expect((await gateway.directory.list({ sub: 'alice', limit: 50 })).sessions.map((summary) => summary.publicId)).toEqual([
      active.publicId,
    ]);
    expect(await gateway.directory.find(idle.publicId)).toBeNull();
    expect(await gateway.directory.revokeByIdpSessionId('sid-idle')).toEqual([]);
  });

  it('keeps one index entry per session when a refresh shortens its absolute expiry', async () => {
    const created = await gateway.sessions.create(session('alice'));
    const replaced = await gateway.sessions.replaceTokens(created, created.tokens, { absoluteExpiresAt: clock.now() + 100_000 });
    const page = await gateway.directory.list({ limit: 50 });
    expect(page.sessions).toHaveLength(1);
    expect(page.sessions[0]!.absoluteExpiresAt).toBe(replaced!.absoluteExpiresAt);
    expect((await gateway.directory.list({ sub: 'alice', limit: 50 })).sessions).toHaveLength(1);
  });

  it('writes the sliding idle expiry at most once per SESSION_TOUCH_INTERVAL, and never past the absolute expiry', async () => {
    const created = await gateway.sessions.create(session('alice'));
    clock.advance(TOUCH_INTERVAL_SECONDS - 1);
    // Within the interval: the expiry read is the one stored, not moved.
    expect((await gateway.sessions.read(created.id))!.idleExpiresAt).toBe(created.idleExpiresAt);
    expect((await gateway.directory.find(created.publicId))!.lastSeenAt).toBe(created.createdAt);
    clock.advance(2);
    const moved = await gateway.sessions.read(created.id);
    expect(moved!.idleExpiresAt).toBe(clock.now() + IDLE_SECONDS * 1000);
    expect((await gateway.directory.find(created.publicId))!.lastSeenAt).toBe(clock.now());
    // A session used steadily within each interval stays alive past one idle timeout.
    for (let elapsed = 0; elapsed < 3 * IDLE_SECONDS; elapsed += TOUCH_INTERVAL_SECONDS - 1) {
      clock.advance(TOUCH_INTERVAL_SECONDS - 1);
      expect(await gateway.sessions.read(created.id)).not.toBeNull();
    }
    clock.advance(IDLE_SECONDS);
    expect(await gateway.sessions.read(created.id)).toBeNull();
  });

  it('keeps a session used within every interval alive until its absolute expiry, not an interval less', async () => {
    const created = await gateway.sessions.create(session('alice'));
    while (clock.now() + (TOUCH_INTERVAL_SECONDS - 1) * 1000 < created.absoluteExpiresAt) {
      clock.advance(TOUCH_INTERVAL_SECONDS - 1);
      expect(await gateway.sessions.read(created.id)).not.toBeNull();
    }
    clock.advance((created.absoluteExpiresAt - clock.now()) / 1000 - 0.5);
    expect(await gateway.sessions.read(created.id)).not.toBeNull();
    clock.advance(0.5);
    expect(await gateway.sessions.read(created.id)).toBeNull();
  });

  it('refuses a cursor it did not hand out', async () => {
    await expect(gateway.directory.list({ cursor: 'sg:{x}:s', limit: 5 })).rejects.toMatchObject({ code: 'invalid_cursor', status: 400 });
    await expect(gateway.directory.list({ cursor: 'sg:{x}:s', limit: 5 })).rejects.toBeInstanceOf(SessionError);
  });
});

describe('the Redis index keys', () => {
  let gateway: Gateway;
  let clock: ManualClock;

  beforeEach(async () => {
    await redis.client.flushall();
    clock = new ManualClock();
    gateway = await startGateway(redis.url, clock);
  });
  afterEach(async () => {
    await gateway.module.close();
  });

  it('name no user, provider session or public id, and outlive none of their sessions', async () => {
    const created = await gateway.sessions.create(session('alice@example.com', 'provider-sid-123'));
    const keys = (await redis.client.keys('*')).sort();
    expect(keys.filter((key) => /^sg:(sessions|sub:|sid:|pub:)/.test(key))).toHaveLength(4);
    expect(keys).toContain('sg:sessions');
    for (const secret of ['alice', 'provider-sid-123', created.publicId, created.id]) expect(keys.join(' ')).not.toContain(secret);

    const sessionKey = keys.find((key) => key.endsWith(':s'))!;
    const keyHash = sessionKey.slice(4, -3);
    const entry = `${String(created.absoluteExpiresAt).padStart(15, '0')}:${keyHash}`;
    expect(await redis.client.zrange('sg:sessions', '0', '-1')).toEqual([entry]);
    expect(await redis.client.zrange(keys.find((key) => key.startsWith('sg:sub:'))!, '0', '-1')).toEqual([entry]);
    expect(await redis.client.zrange(keys.find((key) => key.startsWith('sg:sid:'))!, '0', '-1')).toEqual([entry]);
    expect(await redis.client.get(keys.find((key) => key.startsWith('sg:pub:'))!)).toBe(keyHash);
    const sessionTtl = await redis.client.pttl(sessionKey);
    for (const key of keys) expect(await redis.client.pttl(key)).toBeGreaterThanOrEqual(sessionTtl - 50);
  });

  it('removes a session from every index when it is deleted, and prunes entries of sessions whose TTL ran out', async () => {
    const gone = await gateway.sessions.create(session('alice'));
    const expired = await gateway.sessions.create(session('alice'));
    await gateway.sessions.destroy(gone.id);
    const expiredKey = (await redis.client.keys('sg:{*}:s'))[0]!;
    await redis.client.del(expiredKey);
    expect(await redis.client.zcard('sg:sessions')).toBe(1);
    expect(await redis.client.keys('sg:pub:*')).toHaveLength(1);

    expect((await gateway.directory.list({ sub: 'alice', limit: 10 })).sessions).toEqual([]);
    expect(await redis.client.keys('sg:sub:*').then((subKeys) => redis.client.zcard(subKeys[0]!))).toBe(0);
    expect((await gateway.directory.list({ limit: 10 })).sessions).toEqual([]);
    expect(await redis.client.zcard('sg:sessions')).toBe(0);
    expect(expired.publicId).toBeDefined();
  });
});
