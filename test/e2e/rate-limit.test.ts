import { type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// Rate limits on /bff/login and /bff/callback per client address, counted in Redis (shared by every
// instance) or in the process without REDIS_URL.

const LIMIT = 3;
const WINDOW_SECONDS = 60;
const LIMITS = { RATE_LIMIT_LOGIN: String(LIMIT), RATE_LIMIT_CALLBACK: String(LIMIT), RATE_LIMIT_WINDOW: String(WINDOW_SECONDS) };
/** Every spelling of the loopback client address that could end up in a key. */
const CLIENT_ADDRESSES = ['127.0.0.1', '::1', '::ffff:127.0.0.1'];

function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { redirect: 'manual', headers });
}

async function expectRateLimited(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toEqual({ error: 'rate_limited', message: expect.any(String), requestId: response.headers.get('x-request-id') });
}

describe('two instances on one Redis', () => {
  let stack: GatewayStack;
  let second: string;

  beforeAll(async () => {
    stack = await startGatewayStack({ env: LIMITS });
    second = await stack.startInstance();
  });
  afterAll(async () => {
    await stack.stop();
  });

  test('share one login counter per client: over the limit, 429 JSON with Retry-After', async () => {
    expect((await get(stack.url, '/bff/login')).status).toBe(302);
    expect((await get(second, '/bff/login')).status).toBe(302);
    expect((await get(stack.url, '/bff/login')).status).toBe(302);
    await expectRateLimited(await get(second, '/bff/login'));
    await expectRateLimited(await get(stack.url, '/bff/login'));
  });

  test('an X-Forwarded-For from an untrusted peer changes nothing', async () => {
    await expectRateLimited(await get(stack.url, '/bff/login', { 'x-forwarded-for': '203.0.113.9' }));
  });

  test('count the callback apart from the login', async () => {
    for (let attempt = 0; attempt < LIMIT; attempt++)
      expect((await get(attempt % 2 ? second : stack.url, '/bff/callback?code=c&state=s')).status).toBe(400);
    await expectRateLimited(await get(stack.url, '/bff/callback?code=c&state=s'));
  });

  test('leave every other endpoint alone', async () => {
    for (let attempt = 0; attempt < 2 * LIMIT; attempt++) {
      expect((await get(stack.url, '/bff/user', { 'x-csrf': '1' })).status).toBe(401);
      expect((await get(stack.url, '/api/public/x', { 'x-csrf': '1' })).status).toBe(200);
      expect((await get(stack.url, '/healthz')).status).toBe(200);
    }
  });

  test('keep counters in Redis under keyed hashes, never the client address, each expiring with its window', async () => {
    const keys = await stack.redis.client.keys('sg:rate:*');
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).toMatch(/^sg:rate:\{[A-Za-z0-9_-]{43}\}$/);
      const ttl = await stack.redis.client.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(WINDOW_SECONDS * 1000);
    }
    const dump = (await Promise.all(keys.map(async (key) => `${key} ${await stack.redis.client.get(key)}`))).join('\n');
    for (const address of CLIENT_ADDRESSES) expect(dump).not.toContain(address);
  });
});

describe('behind a trusted proxy', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({ env: { ...LIMITS, TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  test("counts each client named by the proxy's X-Forwarded-For", async () => {
    const from = (client: string) => get(stack.url, '/bff/login', { 'x-forwarded-for': `${client}, 127.0.0.1` });
    for (let attempt = 0; attempt < LIMIT; attempt++) expect((await from('198.51.100.1')).status).toBe(302);
    await expectRateLimited(await from('198.51.100.1'));
    expect((await from('198.51.100.2')).status).toBe(302);
  });
});

describe('without Redis', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({ env: { ...LIMITS, REDIS_URL: '' } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  test('counts in the process', async () => {
    for (let attempt = 0; attempt < LIMIT; attempt++) expect((await get(stack.url, '/bff/login')).status).toBe(302);
    await expectRateLimited(await get(stack.url, '/bff/login'));
    expect(await stack.redis.client.keys('sg:*')).toEqual([]);
  });
});
