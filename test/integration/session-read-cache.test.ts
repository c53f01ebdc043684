import { createHash, randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import pino from 'pino';
import { ConfigModule, loadConfig, loadStoreConfig } from '#sessiongate/config';
import { ObservabilityModule } from '#sessiongate/observability';
import {
  audienceKey,
  type NewSession,
  openSessionDirectory,
  type Session,
  SessionDirectory,
  SessionModule,
  SessionRecordStore,
  SessionService,
  StoreBackend,
} from '#sessiongate/session';
import { minimalGatewayEnv, type RedisFixture, startRedis } from '#sessiongate/testing';

// Two gateway instances on one Redis, each with its own in-process cache: what one of them writes or
// deletes must be what the other reads on its very next request. Before each claim that a read sees a
// change, the test checks that the same read would otherwise have been answered from memory.

interface Instance {
  readonly module: TestingModule;
  readonly sessions: SessionService;
  readonly directory: SessionDirectory;
  readonly store: SessionRecordStore;
  readonly backend: StoreBackend;
}

/** The blob digest as the Redis store compares it (SHA-1 hex of the blob). */
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

let redis: RedisFixture;
let env: Record<string, string | undefined>;
let instances: Instance[];

async function startInstance(overrides: Record<string, string> = {}): Promise<Instance> {
  const module = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(loadConfig({ ...env, ...overrides })),
      ObservabilityModule.forRoot(pino({ level: 'silent' })),
      SessionModule,
    ],
  }).compile();
  const instance = {
    module,
    sessions: module.get(SessionService),
    directory: module.get(SessionDirectory),
    store: module.get(SessionRecordStore),
    backend: module.get(StoreBackend),
  };
  instances.push(instance);
  return instance;
}

function newSession(): NewSession {
  const now = Date.now();
  const tokens = {
    idToken: `id-${randomBytes(8).toString('hex')}`,
    refreshToken: 'refresh-1',
    accessTokens: { [audienceKey()]: { value: 'access-1', expiresAt: now + 300_000 } },
  };
  return { sub: `user-${randomBytes(4).toString('hex')}`, idpSessionId: randomBytes(8).toString('hex'), claims: { name: 'Alice' }, tokens };
}

/** Waits until the instance's invalidation feed is subscribed and confirmed (it connects in the background). */
async function live(instance: Instance): Promise<Instance> {
  while (!instance.store.invalidations?.live) await new Promise((resolve) => setTimeout(resolve, 10));
  return instance;
}

/** Reads the session and says whether the read was answered from memory (the store was not asked). */
async function readCounting(
  instance: Instance,
  id: string,
  options?: { fresh: boolean },
): Promise<{ session: Session | null; fromMemory: boolean }> {
  const touch = jest.spyOn(instance.store, 'touch');
  try {
    const session = await instance.sessions.read(id, options);
    return { session, fromMemory: touch.mock.calls.length === 0 };
  } finally {
    touch.mockRestore();
  }
}

/** The store key hash of the only session in Redis. */
async function onlyKeyHash(): Promise<string> {
  const keys = await redis.client.keys('sg:{*}:s');
  expect(keys).toHaveLength(1);
  return keys[0]!.slice('sg:{'.length, -'}:s'.length);
}

beforeAll(async () => {
  redis = await startRedis();
  env = { ...minimalGatewayEnv(), REDIS_URL: redis.url };
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  instances = [];
  await redis.client.flushall();
});
afterEach(async () => {
  await Promise.all(instances.map((instance) => instance.module.close()));
});

describe('the touch script', () => {
  it('leaves the blob out only when the stored version and blob are the ones the caller knows', async () => {
    const { sessions, store } = await startInstance();
    await sessions.create(newSession());
    const keyHash = await onlyKeyHash();
    const blob = (await redis.client.hget(`sg:{${keyHash}}:s`, 'd'))!;

    const unchanged = await store.touch(keyHash, 60_000, 5_000, { version: 1, digest: sha1(blob) });
    expect(unchanged).toMatchObject({ version: 1, blob: undefined });
    expect(unchanged!.idleExpiresAt).toBeGreaterThan(Date.now());

    expect((await store.touch(keyHash, 60_000, 5_000))?.blob).toBe(blob);
    expect((await store.touch(keyHash, 60_000, 5_000, { version: 2, digest: sha1(blob) }))?.blob).toBe(blob);
    // Altered in place under the same version: sent, so that decrypting it fails as without a cache.
    expect((await store.touch(keyHash, 60_000, 5_000, { version: 1, digest: sha1(`${blob}x`) }))?.blob).toBe(blob);
  });

  it('still reads a missing or expired session as none, whatever the caller knows', async () => {
    const { sessions, store } = await startInstance();
    await sessions.create(newSession());
    const keyHash = await onlyKeyHash();
    const known = { version: 1, digest: sha1((await redis.client.hget(`sg:{${keyHash}}:s`, 'd'))!) };
    await redis.client.hset(`sg:{${keyHash}}:s`, 'i', String(Date.now() - 1));
    expect(await store.touch(keyHash, 60_000, 5_000, known)).toBeNull();
    expect(await redis.client.exists(`sg:{${keyHash}}:s`)).toBe(0);
    expect(await store.touch(keyHash, 60_000, 5_000, known)).toBeNull();
  });
});

describe('the invalidation channel', () => {
  it('carries the key hash of every session a script deletes or replaces, and nothing for a new one', async () => {
    const { sessions } = await startInstance({ SESSION_CACHE: 'verify' });
    const listener = redis.client.duplicate();
    const messages: string[] = [];
    listener.on('message', (channel: string, keyHash: string) => messages.push(`${channel} ${keyHash}`));
    await listener.subscribe('sg:invalidate');
    // PING answers after every message published before it (see RedisInvalidationFeed).
    const received = async () => {
      await listener.ping();
      return messages.splice(0);
    };
    try {
      const created = await sessions.create(newSession());
      const keyHash = await onlyKeyHash();
      expect(await received()).toEqual([]);
      await sessions.replaceTokens(created, { ...created.tokens, refreshToken: 'refresh-2' });
      expect(await received()).toEqual([`sg:invalidate ${keyHash}`]);
      await sessions.destroy(created.id);
      expect(await received()).toEqual([`sg:invalidate ${keyHash}`]);

      const idle = await sessions.create(newSession());
      const idleHash = await onlyKeyHash();
      await redis.client.hset(`sg:{${idleHash}}:s`, 'i', String(Date.now() - 1));
      expect(await sessions.read(idle.id)).toBeNull();
      expect(await received()).toEqual([`sg:invalidate ${idleHash}`]);
    } finally {
      listener.disconnect();
    }
  });
});

describe('reading a session through the cache', () => {
  it('with SESSION_CACHE=verify, asks the store on every read, which transfers no blob for an unchanged session', async () => {
    const { sessions, store } = await startInstance({ SESSION_CACHE: 'verify' });
    expect(store.invalidations?.live).toBeFalsy();
    const created = await sessions.create(newSession());
    const touch = jest.spyOn(store, 'touch');
    const first = await sessions.read(created.id);
    const second = await sessions.read(created.id);
    expect(touch).toHaveBeenCalledTimes(2);
    for (const call of touch.mock.results) expect((await (call.value as Promise<{ blob?: string } | null>))?.blob).toBeUndefined();
    expect(second).toEqual({ ...created, idleExpiresAt: second!.idleExpiresAt });
    expect(first).toEqual({ ...created, idleExpiresAt: first!.idleExpiresAt });
  });

  it('answers from memory once read, while the feed is live, unless asked for a fresh read', async () => {
    const instance = await live(await startInstance());
    const created = await instance.sessions.create(newSession());
    const first = await readCounting(instance, created.id);
    expect(first.fromMemory).toBe(false);
    const second = await readCounting(instance, created.id);
    expect(second).toEqual({ session: first.session, fromMemory: true });
    expect(second.session).toEqual({ ...created, idleExpiresAt: second.session!.idleExpiresAt });
    expect((await readCounting(instance, created.id, { fresh: true })).fromMemory).toBe(false);
  });

  it('picks up a version written by another instance on the next read', async () => {
    const [one, two] = [await live(await startInstance()), await live(await startInstance())];
    const created = await one.sessions.create(newSession());
    await one.sessions.read(created.id);
    expect(await readCounting(one, created.id)).toMatchObject({ session: { version: 1 }, fromMemory: true });
    const atTwo = (await two.sessions.read(created.id))!;
    const tokens = { ...atTwo.tokens, idToken: 'id-2', refreshToken: 'refresh-2' };
    await two.sessions.replaceTokens(atTwo, tokens, { claims: { name: 'Alice B.' } });

    expect(await one.sessions.read(created.id)).toMatchObject({ version: 2, tokens, claims: { name: 'Alice B.' } });
    expect(await two.sessions.read(created.id)).toMatchObject({ version: 2, tokens });
  });

  it('reads a session deleted on one instance, by the directory or by the CLI as none on the next read, on both', async () => {
    const [one, two] = [await live(await startInstance()), await live(await startInstance())];
    const loggedOut = await one.sessions.create(newSession());
    const revoked = await one.sessions.create(newSession());
    const fromCli = await one.sessions.create(newSession());
    const cached = async (id: string) => {
      for (const instance of [one, two]) {
        await instance.sessions.read(id);
        expect(await readCounting(instance, id)).toMatchObject({ session: { id }, fromMemory: true });
      }
    };

    await cached(loggedOut.id);
    await two.sessions.destroy(loggedOut.id);
    expect(await one.sessions.read(loggedOut.id)).toBeNull();
    expect(await two.sessions.read(loggedOut.id)).toBeNull();

    // An admin revocation deletes in the store only, past every instance's SessionService.
    await cached(revoked.id);
    expect(await one.directory.revokeByPublicId(revoked.publicId)).not.toBeNull();
    expect(await two.sessions.read(revoked.id)).toBeNull();
    expect(await one.sessions.read(revoked.id)).toBeNull();

    // The CLI's directory: its own connection to Redis, no cache, no feed of its own.
    await cached(fromCli.id);
    const cli = await openSessionDirectory(loadStoreConfig({ ...env, REDIS_URL: redis.url }), pino({ level: 'silent' }));
    try {
      expect(await cli.directory.revokeByPublicId(fromCli.publicId)).not.toBeNull();
    } finally {
      await cli.close();
    }
    expect(await two.sessions.read(fromCli.id)).toBeNull();
    expect(await one.sessions.read(fromCli.id)).toBeNull();
  });

  it('forgets everything when the invalidation connection drops, and asks the store until it is subscribed again', async () => {
    const instance = await live(await startInstance());
    const created = await instance.sessions.create(newSession());
    await instance.sessions.read(created.id);
    expect((await readCounting(instance, created.id)).fromMemory).toBe(true);

    // A change whose message is lost with the connection: a plain DEL publishes nothing at all.
    await redis.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await redis.client.del(`sg:{${await onlyKeyHash()}}:s`);
    expect(await readCounting(instance, created.id)).toEqual({ session: null, fromMemory: false });

    const again = await instance.sessions.create(newSession());
    await live(instance);
    await instance.sessions.read(again.id);
    expect((await readCounting(instance, again.id)).fromMemory).toBe(true);
  });

  it('answers 503 rather than from memory while Redis is down, and recovers when it is back', async () => {
    const instance = await live(await startInstance());
    const created = await instance.sessions.create(newSession());
    await instance.sessions.read(created.id);
    expect((await readCounting(instance, created.id)).fromMemory).toBe(true);
    await redis.kill();
    await expect(instance.sessions.read(created.id)).rejects.toMatchObject({ code: 'session_store_unavailable' });
    await redis.restart();
    // Redis kept nothing on disk: the session is gone, and the feed comes back by itself.
    await live(instance);
    while (
      !(await instance.backend.ping().then(
        () => true,
        () => false,
      ))
    )
      await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await instance.sessions.create(newSession());
    await instance.sessions.read(again.id);
    expect((await readCounting(instance, again.id)).fromMemory).toBe(true);
    expect(await instance.sessions.read(created.id)).toBeNull();
  });

  it('still deletes a session whose blob was altered in place after it was read (SESSION_CACHE=verify)', async () => {
    const { sessions } = await startInstance({ SESSION_CACHE: 'verify' });
    const created = await sessions.create(newSession());
    expect(await sessions.read(created.id)).not.toBeNull();
    const key = `sg:{${await onlyKeyHash()}}:s`;
    const blob = (await redis.client.hget(key, 'd'))!;
    await redis.client.hset(key, 'd', `${blob.slice(0, -5)}${blob.at(-5) === 'A' ? 'B' : 'A'}${blob.slice(-4)}`);
    expect(await sessions.read(created.id)).toBeNull();
    expect(await redis.client.exists(key)).toBe(0);
  });
});
