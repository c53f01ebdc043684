import { setTimeout as sleep } from 'node:timers/promises';
import { loadStoreConfig } from '#sessiongate/config';
import { createRedisConnection, duplicateConnection } from '#sessiongate/redis';
import { minimalGatewayEnv, startTlsRedis, type TlsRedisFixture } from '#sessiongate/testing';
import type { Redis } from 'ioredis';

// A TLS socket whose handshake fails (here: a server certificate the client cannot verify) may emit a
// second error, the server's alert, after ioredis stopped listening; before the fix, that error ended
// the process about one close in three.

let tls: TlsRedisFixture;

beforeAll(async () => {
  tls = await startTlsRedis();
});

afterAll(async () => {
  await tls.stop();
});

function uncaughtErrors(): { readonly seen: Error[]; stop(): void } {
  const seen: Error[] = [];
  const record = (error: Error) => void seen.push(error);
  const previous = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', record);
  return {
    seen,
    stop() {
      process.off('uncaughtException', record);
      for (const listener of previous) process.on('uncaughtException', listener);
    },
  };
}

it.each([
  ['a connection', (redis: Redis) => redis],
  ['a duplicated connection', (redis: Redis) => duplicateConnection(redis, { enableAutoPipelining: false })],
])('closes %s whose TLS handshake fails without an unheard socket error, however soon it is closed', async (_title, pick) => {
  const { redis: config } = loadStoreConfig({ ...minimalGatewayEnv(), REDIS_URL: tls.url });
  const uncaught = uncaughtErrors();
  try {
    for (let attempt = 0; attempt < 40; attempt++) {
      const made = createRedisConnection(config, { timeoutMs: 1000, scripts: {} }) as Redis;
      const redis = pick(made);
      redis.on('error', () => undefined);
      const connected = redis.connect().then(
        () => 'connected',
        () => 'refused',
      );
      await sleep((attempt * 7) % 50);
      await redis.quit().catch(() => undefined);
      redis.disconnect();
      if (redis !== made) made.disconnect();
      expect(await connected).toBe('refused');
    }
    await sleep(100);
    expect(uncaught.seen.map((error) => error.message)).toEqual([]);
  } finally {
    uncaught.stop();
  }
});
