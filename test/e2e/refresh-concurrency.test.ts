import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BrowserClient, type GatewayStack, type GatewayStackOptions, startGatewayStack } from '#sessiongate/testing';

// One refresh per session, whatever the concurrency, on however many instances (issue 3), against
// oidc-provider with rotating refresh tokens: a second refresh with the same token would be a reuse,
// which the provider detects (and answers by revoking the whole grant).

const CSRF = { 'x-csrf': '1' };
const ACCESS_TOKEN_TTL_SECONDS = 3;
const SKEW_SECONDS = 1;

const untilExpired = () => sleep(ACCESS_TOKEN_TTL_SECONDS * 1000 + 200);

function startStack(env: Record<string, string> = {}, options: GatewayStackOptions = {}): Promise<GatewayStack> {
  return startGatewayStack({
    ...options,
    idp: { accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS },
    env: { TOKEN_REFRESH_SKEW: String(SKEW_SECONDS), ...env },
  });
}

/** The access tokens the provider issued, oldest first. */
function recordAccessTokens(stack: GatewayStack): string[] {
  const issued: string[] = [];
  stack.idp.onTokenResponse = (body) => {
    if (typeof body.access_token === 'string') issued.push(body.access_token);
  };
  return issued;
}

function refreshRequests(stack: GatewayStack) {
  return stack.idp.tokenRequests.filter((request) => request.grantType === 'refresh_token');
}

function refreshGrants(stack: GatewayStack): number {
  return stack.idp.events.filter((event) => event.name === 'grant.success' && event.grantType === 'refresh_token').length;
}

/** The session's Redis keys: `sg:{<sha256 base64url of the cookie value>}:s` and `…:lock`. */
function sessionKeys(stack: GatewayStack, browser: BrowserClient): { session: string; lock: string } {
  const cookie = browser.cookies(stack.url)[stack.config.session.cookieName];
  if (!cookie) throw new Error('no session cookie');
  const hash = createHash('sha256').update(cookie).digest('base64url');
  return { session: `sg:{${hash}}:s`, lock: `sg:{${hash}}:lock` };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('one refresh per session under concurrency', () => {
  let stack: GatewayStack | undefined;

  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('refreshes once for 100 concurrent calls spread over two gateway instances', async () => {
    stack = await startStack();
    const issued = recordAccessTokens(stack);
    const second = await stack.startInstance();
    const browser = await stack.loginAs('alice');
    await untilExpired();

    const seen = stack.echo.requests.length;
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, index) => {
        const origin = index % 2 === 0 ? stack!.url : second;
        return browser.get(`${origin}/api/echo/c${index}`, { headers: CSRF, from: `${origin}/` });
      }),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    expect(refreshRequests(stack)).toHaveLength(1);
    expect(refreshGrants(stack)).toBe(1);
    expect(stack.idp.refreshTokenReuseDetected()).toBe(false);
    expect(issued).toHaveLength(2);
    const upstream = stack.echo.requests.slice(seen);
    expect(upstream).toHaveLength(100);
    expect(new Set(upstream.map((request) => request.headers.authorization))).toEqual(new Set([`Bearer ${issued[1]}`]));
  });

  it('renews the lease while a slow token request runs, so a second instance never refreshes with the same token', async () => {
    stack = await startStack({ REFRESH_LOCK_LEASE_MS: '300' });
    const issued = recordAccessTokens(stack);
    const second = await stack.startInstance();
    const browser = await stack.loginAs('alice');
    const { lock } = sessionKeys(stack, browser);
    await untilExpired();
    stack.idp.tokenEndpointFault = { kind: 'delay', ms: 1500, grantType: 'refresh_token' };

    const call = (origin: string, index: number) => browser.get(`${origin}/api/echo/s${index}`, { headers: CSRF, from: `${origin}/` });
    const first = Promise.all(Array.from({ length: 10 }, (_, index) => call(stack!.url, index)));
    // Well past the 300 ms lease: without renewal, the other instance would take the lock now.
    await sleep(900);
    const ttl = await stack.redis.client.pttl(lock);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    const later = Promise.all(Array.from({ length: 10 }, (_, index) => call(index % 2 === 0 ? second : stack!.url, 10 + index)));
    const responses = [...(await first), ...(await later)];

    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(refreshRequests(stack)).toHaveLength(1);
    expect(refreshGrants(stack)).toBe(1);
    expect(stack.idp.refreshTokenReuseDetected()).toBe(false);
    expect(new Set(stack.echo.requests.slice(-20).map((request) => request.headers.authorization))).toEqual(
      new Set([`Bearer ${issued[1]}`]),
    );
    expect(await stack.redis.client.exists(lock)).toBe(0);
  });

  it('waits out the lease of a lock holder that died, then refreshes', async () => {
    stack = await startStack();
    const browser = await stack.loginAs('alice');
    const { lock } = sessionKeys(stack, browser);
    await untilExpired();
    await stack.redis.client.set(lock, 'someone-else', 'PX', 1000);

    const started = Date.now();
    const response = await browser.get(`${stack.url}/api/echo/dead-holder`, { headers: CSRF });
    const elapsed = Date.now() - started;

    expect(response.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(3000);
    expect(refreshRequests(stack)).toHaveLength(1);
    expect(stack.idp.refreshTokenReuseDetected()).toBe(false);
    expect(await stack.redis.client.exists(lock)).toBe(0);
  });

  it('gives up waiting after REFRESH_WAIT_TIMEOUT_MS with 503 refresh_timeout and Retry-After', async () => {
    stack = await startStack({ REFRESH_WAIT_TIMEOUT_MS: '500' });
    const browser = await stack.loginAs('alice');
    const keys = sessionKeys(stack, browser);
    await untilExpired();
    await stack.redis.client.set(keys.lock, 'someone-else', 'PX', 5000);

    const started = Date.now();
    const response = await browser.get(`${stack.url}/api/echo/waiter`, { headers: CSRF });
    const elapsed = Date.now() - started;

    expect(response.status).toBe(503);
    expect(response.json()).toMatchObject({ error: 'refresh_timeout' });
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    // RefreshLock stops retrying once its next backoff (at most 200 ms) would pass the deadline.
    expect(elapsed).toBeGreaterThanOrEqual(500 - 250);
    expect(elapsed).toBeLessThan(1000);
    expect(refreshRequests(stack)).toHaveLength(0);
    // The session is intact, and another's lock is left alone.
    expect(await stack.redis.client.exists(keys.session)).toBe(1);
    expect(await stack.redis.client.get(keys.lock)).toBe('someone-else');

    await stack.redis.client.del(keys.lock);
    expect((await browser.get(`${stack.url}/api/echo/after`, { headers: CSRF })).status).toBe(200);
    expect(refreshRequests(stack)).toHaveLength(1);
  });

  it('does not write back a session logged out while its refresh was running', async () => {
    stack = await startStack();
    const browser = await stack.loginAs('alice');
    const { logoutUrl } = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).json<{ logoutUrl: string }>();
    await untilExpired();
    stack.idp.tokenEndpointFault = { kind: 'delay', ms: 1500, grantType: 'refresh_token' };

    const call = browser.get(`${stack.url}/api/echo/late`, { headers: CSRF, from: `${stack.url}/` });
    await until(() => refreshRequests(stack!).length === 1);
    const logout = await browser.get(`${stack.url}${logoutUrl}`, { followRedirects: false, from: `${stack.url}/` });
    expect(logout.status).toBe(302);
    const response = await call;

    expect(response.status).toBe(401);
    expect(['session_expired', 'unauthenticated']).toContain(response.json<{ error: string }>().error);
    expect(await stack.redis.client.keys('sg:{*}:s')).toEqual([]);
    expect(await stack.redis.client.keys('sg:{*}:lock')).toEqual([]);
    expect((await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(401);
    expect(stack.idp.refreshTokenReuseDetected()).toBe(false);
  });

  it('does not write back a session deleted from the store while the provider granted its refresh', async () => {
    // Unlike logout, nothing revokes the refresh token here: the provider grants the refresh, and only
    // the compare-and-set on the session's version stands between the late result and the store.
    stack = await startStack();
    const browser = await stack.loginAs('alice');
    const { session } = sessionKeys(stack, browser);
    await untilExpired();
    stack.idp.tokenEndpointFault = { kind: 'delay', ms: 1000, grantType: 'refresh_token' };

    const call = browser.get(`${stack.url}/api/echo/revoked`, { headers: CSRF });
    await until(() => refreshRequests(stack!).length === 1);
    expect(await stack.redis.client.del(session)).toBe(1);
    const response = await call;

    expect(response.status).toBe(401);
    expect(response.json()).toMatchObject({ error: 'session_expired' });
    expect(refreshGrants(stack)).toBe(1);
    expect(await stack.redis.client.keys('sg:{*}:s')).toEqual([]);
    expect((await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(401);
  });
});
