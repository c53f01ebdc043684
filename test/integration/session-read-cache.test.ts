import { createHash, randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import pino from 'pino';
import { ConfigModule, loadConfig } from '#sessiongate/config';
import { ObservabilityModule } from '#sessiongate/observability';
import { audienceKey, type NewSession, SessionDirectory, SessionModule, SessionService, SessionStore } from '#sessiongate/session';
import { minimalGatewayEnv, type RedisFixture, startRedis } from '#sessiongate/testing';

// Two gateway instances on one Redis, each with its own in-process read cache: what one of them
// writes or deletes must be what the other reads on its very next request.

interface Instance {
  readonly module: TestingModule;
  readonly sessions: SessionService;
  readonly directory: SessionDirectory;
  readonly store: SessionStore;
}

/** The blob digest as the Redis store compares it (SHA-1 hex of the blob). */
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

let redis: RedisFixture;
let env: Record<string, string | undefined>;
let instances: Instance[];

async function startInstance(): Promise<Instance> {
  const module = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(loadConfig(env)), ObservabilityModule.forRoot(pino({ level: 'silent' })), SessionModule],
  }).compile();
  const instance = { module, sessions: module.get(SessionService), directory: module.get(SessionDirectory), store: module.get(SessionStore) };
  instances.push(instance);
  return instance;
}

function newSession(): NewSession {
  const now = Date.now();
  const tokens = { idToken: `id-${randomBytes(8).toString('hex')}`, refreshToken: 'refresh-1', accessTokens: { [audienceKey()]: { value: 'access-1', expiresAt: now + 300_000 } } };
  return { sub: `user-${randomBytes(4).toString('hex')}`, idpSessionId: randomBytes(8).toString('hex'), claims: { name: 'Alice' }, tokens };
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

describe('reading a session through the cache', () => {
  it('transfers no blob for an unchanged session, in one round trip, and returns the same session', async () => {
    const { sessions, store } = await startInstance();
    const created = await sessions.create(newSession());
    const touch = jest.spyOn(store, 'touch');
    const first = await sessions.read(created.id);
    const second = await sessions.read(created.id);
    expect(touch).toHaveBeenCalledTimes(2);
    for (const call of touch.mock.results) expect((await (call.value as Promise<{ blob?: string } | null>))?.blob).toBeUndefined();
    expect(second).toEqual({ ...created, idleExpiresAt: second!.idleExpiresAt });
    expect(first).toEqual({ ...created, idleExpiresAt: first!.idleExpiresAt });
  });

  it('picks up a version written by another instance on the next read', async () => {
    const [one, two] = [await startInstance(), await startInstance()];
    const created = await one.sessions.create(newSession());
    expect(await one.sessions.read(created.id)).toMatchObject({ version: 1 });
    const atTwo = (await two.sessions.read(created.id))!;
    const tokens = { ...atTwo.tokens, idToken: 'id-2', refreshToken: 'refresh-2' };
    await two.sessions.replaceTokens(atTwo, tokens, { claims: { name: 'Alice B.' } });

    expect(await one.sessions.read(created.id)).toMatchObject({ version: 2, tokens, claims: { name: 'Alice B.' } });
    expect(await two.sessions.read(created.id)).toMatchObject({ version: 2, tokens });
  });

  it('reads a session deleted on one instance as none on the next read, on both', async () => {
    const [one, two] = [await startInstance(), await startInstance()];
    const loggedOut = await one.sessions.create(newSession());
    const revoked = await one.sessions.create(newSession());
    for (const { sessions } of [one, two]) {
      expect(await sessions.read(loggedOut.id)).not.toBeNull();
      expect(await sessions.read(revoked.id)).not.toBeNull();
    }

    await two.sessions.destroy(loggedOut.id);
    expect(await one.sessions.read(loggedOut.id)).toBeNull();
    expect(await two.sessions.read(loggedOut.id)).toBeNull();

    // An admin revocation deletes in the store only, past every instance's SessionService.
    expect(await one.directory.revokeByPublicId(revoked.publicId)).not.toBeNull();
    expect(await two.sessions.read(revoked.id)).toBeNull();
    expect(await one.sessions.read(revoked.id)).toBeNull();
  });

  it('still deletes a session whose blob was altered in place after it was cached', async () => {
    const { sessions } = await startInstance();
    const created = await sessions.create(newSession());
    expect(await sessions.read(created.id)).not.toBeNull();
    const key = `sg:{${await onlyKeyHash()}}:s`;
    const blob = (await redis.client.hget(key, 'd'))!;
    await redis.client.hset(key, 'd', `${blob.slice(0, -5)}${blob.at(-5) === 'A' ? 'B' : 'A'}${blob.slice(-4)}`);
    expect(await sessions.read(created.id)).toBeNull();
    expect(await redis.client.exists(key)).toBe(0);
  });
});
