import { type GatewayStack, startGatewayStack, startRedis } from '#sessiongate/testing';

/** Polls /readyz until it answers 200 or `timeoutMs` has passed; its last status. */
async function readyWithin(url: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let status = 0;
  while (status !== 200 && Date.now() < deadline) {
    status = (await fetch(`${url}/readyz`)).status;
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return status;
}

/** Liveness and readiness as an orchestrator probes them: no cookie, no CSRF header. */
describe('health endpoints', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack();
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('/healthz answers 200 while the process serves', async () => {
    const response = await fetch(`${stack.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('/readyz reports the session store and the provider', async () => {
    const response = await fetch(`${stack.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      details: { sessionStore: { status: 'up', kind: 'redis' }, identityProvider: { status: 'up' } },
    });
  });

  it('/readyz goes 503 while Redis is down and recovers by itself; /healthz stays 200', async () => {
    await stack.redis.kill();
    const down = await fetch(`${stack.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'error', error: { sessionStore: { status: 'down' } } });
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);

    await stack.redis.restart();
    expect(await readyWithin(stack.url, 10_000)).toBe(200);
  });

  it('names no host, URL or secret', async () => {
    const text = await (await fetch(`${stack.url}/readyz`)).text();
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain('redis://');
  });
});

describe('a gateway started before its Redis', () => {
  it('starts, is not ready and answers session requests 503 JSON, then becomes ready by itself once Redis is up', async () => {
    const redis = await startRedis();
    await redis.kill();
    const stack = await startGatewayStack({ redis });
    try {
      const readyz = await fetch(`${stack.url}/readyz`);
      expect(readyz.status).toBe(503);
      expect(await readyz.json()).toMatchObject({ error: { sessionStore: { status: 'down' } } });
      expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
      const login = await fetch(`${stack.url}/bff/login`, { redirect: 'manual' });
      expect(login.status).toBe(503);
      expect(await login.json()).toMatchObject({ error: 'session_store_unavailable', requestId: expect.any(String) });

      await redis.restart();
      expect(await readyWithin(stack.url, 10_000)).toBe(200);
      const browser = await stack.loginAs('alice');
      expect((await browser.get(`${stack.url}/bff/user`, { headers: { 'x-csrf': '1' }, from: stack.url })).status).toBe(200);
    } finally {
      await stack.stop();
      await redis.stop();
    }
  });
});
