import { startRedis } from './redis.fixture.js';

test('starts a private redis that can be killed and restarted on the same port', async () => {
  const redis = await startRedis();
  try {
    await redis.client.set('k', 'v');
    expect(await redis.client.get('k')).toBe('v');
    await redis.restart();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await redis.client.get('k')).toBeNull();
  } finally {
    await redis.stop();
  }
});
