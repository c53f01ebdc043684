import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type BrowserClient, type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// Session lifetimes through the real gateway on real Redis, with short values and the real clock:
// the idle timeout slides on use, the absolute one never does, and sliding writes to Redis at most
// once per SESSION_TOUCH_INTERVAL however many requests come in.

const CSRF = { 'x-csrf': '1' } as const;

async function status(stack: GatewayStack, browser: BrowserClient): Promise<number> {
  return (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).status;
}

/**
 * What the gateway says of a session cookie, sent as is: the browser drops the cookie itself a little
 * before the absolute expiry (its Max-Age is rounded down), and these tests are about the server.
 */
async function serverStatus(stack: GatewayStack, cookie: string): Promise<number> {
  const response = await fetch(`${stack.url}/bff/user`, { headers: { ...CSRF, cookie: `${stack.config.session.cookieName}=${cookie}` } });
  await response.body?.cancel();
  return response.status;
}

describe('idle and absolute timeouts', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({ env: { SESSION_IDLE_TIMEOUT: '2', SESSION_ABSOLUTE_TIMEOUT: '4', SESSION_TOUCH_INTERVAL: '1' } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('ends an unused session after the idle timeout, and a busy one at the absolute timeout however busy', async () => {
    const [busy, idle] = (await Promise.all([stack.loginAs('alice'), stack.loginAs('bob')])).map(
      (browser) => browser.cookies(stack.url)[stack.config.session.cookieName]!,
    );
    // Counted from the end of the logins, so both sessions' expiries lie before the times below
    // however slow a loaded machine makes the login.
    const started = Date.now();
    const at = (seconds: number) => sleep(Math.max(0, started + seconds * 1000 - Date.now()));

    // Used every 0.6 s (less than the idle timeout minus the touch interval): alive well past the 2 s idle timeout.
    for (const second of [0.6, 1.2, 1.8, 2.4, 3.0, 3.6]) {
      await at(second);
      expect(await serverStatus(stack, busy!)).toBe(200);
    }
    // Not used since login: gone after 2 s.
    expect(await serverStatus(stack, idle!)).toBe(401);
    // The absolute timeout (4 s after login) never slid.
    await at(4.1);
    expect(await serverStatus(stack, busy!)).toBe(401);
    expect(await stack.redis.client.keys('sg:{*}:s')).toEqual([]);
  });

  it('reports when the session ends in /bff/user, never past the absolute expiry', async () => {
    const alice = await stack.loginAs('alice');
    const { session } = (await alice.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{
      session: { expiresAt: string; absoluteExpiresAt: string };
    }>();
    expect(Date.parse(session.absoluteExpiresAt) - Date.now()).toBeLessThanOrEqual(4000);
    expect(Date.parse(session.expiresAt) - Date.now()).toBeLessThanOrEqual(2000);
  });
});

describe('touch throttling', () => {
  let stack: GatewayStack;
  let client: Redis;
  let monitor: Redis;
  const writes: string[] = [];

  beforeAll(async () => {
    stack = await startGatewayStack({ env: { SESSION_IDLE_TIMEOUT: '60', SESSION_TOUCH_INTERVAL: '3' } });
    client = new Redis(stack.redis.url);
    monitor = await client.monitor();
    // Every command Redis runs, scripts' included: count the writes to session and index keys.
    monitor.on('monitor', (_time: string, args: string[]) => {
      const [command, key] = args;
      if (/^(hset|pexpire|set|zadd)$/i.test(command ?? '') && /^sg:(\{|meta:|sessions|sub:|sid:|pub:)/.test(key ?? ''))
        writes.push(`${command} ${key}`);
    });
  });
  afterAll(async () => {
    monitor.disconnect();
    client.disconnect();
    await stack.stop();
  });

  it('writes the sliding idle expiry at most once per SESSION_TOUCH_INTERVAL, however many requests', async () => {
    const alice = await stack.loginAs('alice');
    const [key] = await stack.redis.client.keys('sg:{*}:s');
    const stored = await stack.redis.client.hget(key!, 'i');
    await sleep(100);
    writes.length = 0;

    // Counted from when the session was written (its idle expiry minus the timeout), not from the
    // end of the login, which a loaded machine can make late.
    const created = Number(stored) - 60_000;
    let requests = 0;
    while (Date.now() - created < 2500) {
      expect(await status(stack, alice)).toBe(200);
      expect((await alice.get(`${stack.url}/api/echo/x`, { headers: CSRF, from: stack.url })).status).toBe(200);
      requests += 2;
    }
    await sleep(100);
    expect(requests).toBeGreaterThan(10);
    expect(writes).toEqual([]);
    expect(await stack.redis.client.hget(key!, 'i')).toBe(stored);

    await sleep(Math.max(0, created + 3200 - Date.now()));
    expect(await status(stack, alice)).toBe(200);
    expect(await status(stack, alice)).toBe(200);
    await sleep(100);
    const moved = Number(await stack.redis.client.hget(key!, 'i'));
    expect(moved).toBeGreaterThan(Number(stored) + 3000);
    // One touch: the session's idle expiry and TTL, its meta (last seen) and its indexes' TTLs; once.
    expect(writes.filter((write) => write.startsWith('hset') || write.startsWith('HSET'))).toHaveLength(2);
    expect(await stack.redis.client.pttl(key!)).toBeGreaterThan(58_000);
  });
});
