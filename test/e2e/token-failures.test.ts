import { createHash, createPrivateKey, type JsonWebKey, sign } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenEndpointFault } from '#sessiongate/demo';
import { type BrowserClient, GATEWAY_CLIENT_ID, GATEWAY_CLIENT_SECRET, type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// Every failure mode of issue 3, with the provider or Redis actually failing, on one stack whose
// provider rotates refresh tokens: at the end, it must never have seen a refresh token twice.

const CSRF = { 'x-csrf': '1' };
const ACCESS_TOKEN_TTL_SECONDS = 3;
const SKEW_SECONDS = 1;

const untilExpired = () => sleep(ACCESS_TOKEN_TTL_SECONDS * 1000 + 200);
/** Inside the refresh window (expiry minus skew), but not expired. */
const untilRefreshDue = () => sleep((ACCESS_TOKEN_TTL_SECONDS - SKEW_SECONDS) * 1000 + 200);

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  refresh_expires_in?: number;
}

describe('token failures', () => {
  let stack: GatewayStack;
  const issued: TokenResponse[] = [];
  const record = (body: Record<string, unknown>) => void issued.push({ ...(body as TokenResponse) });

  beforeAll(async () => {
    stack = await startGatewayStack({
      idp: { accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS },
      env: { TOKEN_REFRESH_SKEW: String(SKEW_SECONDS) },
    });
    stack.idp.onTokenResponse = record;
  });

  afterEach(() => {
    stack.idp.tokenEndpointFault = undefined;
    stack.idp.onTokenResponse = record;
  });

  afterAll(async () => {
    await stack.stop();
  });

  function sessionKey(browser: BrowserClient): string {
    const cookie = browser.cookies(stack.url)[stack.config.session.cookieName];
    if (!cookie) throw new Error('no session cookie');
    return `sg:{${createHash('sha256').update(cookie).digest('base64url')}}:s`;
  }

  function refreshRequestsSince(since: number): number {
    return stack.idp.tokenRequests.slice(since).filter((request) => request.grantType === 'refresh_token').length;
  }

  /** An ID token with `changes` applied to its claims, signed again with the provider's own key. */
  function resigned(idToken: string, changes: Record<string, unknown>): string {
    const [header, payload] = idToken.split('.');
    const claims = { ...(JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>), ...changes };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const key = createPrivateKey({ key: stack.idp.signingKey as JsonWebKey, format: 'jwk' });
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  }

  const call = (browser: BrowserClient, path: string) => browser.get(`${stack.url}${path}`, { headers: CSRF, from: `${stack.url}/` });

  it.each<[string, TokenEndpointFault]>([
    ['503 with a JSON error', { kind: 'status', status: 503, grantType: 'refresh_token' }],
    ['500 with an HTML page', { kind: 'status', status: 500, body: 'html', grantType: 'refresh_token' }],
  ])('keeps the session and answers 503 idp_unavailable when the provider answers the refresh with %s', async (_name, fault) => {
    const browser = await stack.loginAs('alice');
    await untilExpired();
    stack.idp.tokenEndpointFault = fault;
    const since = stack.idp.tokenRequests.length;

    const response = await call(browser, '/api/echo/a');
    expect(response.status).toBe(503);
    expect(response.json()).toMatchObject({ error: 'idp_unavailable' });
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refreshRequestsSince(since)).toBe(1);
    expect(await stack.redis.client.exists(sessionKey(browser))).toBe(1);
    expect((await call(browser, '/bff/user')).status).toBe(200);

    stack.idp.tokenEndpointFault = undefined;
    expect((await call(browser, '/api/echo/b')).status).toBe(200);
  });

  it('answers 503 idp_unavailable after its provider timeout when the provider does not answer the refresh', async () => {
    const browser = await stack.loginAs('alice');
    await untilExpired();
    stack.idp.tokenEndpointFault = { kind: 'hang', grantType: 'refresh_token' };

    const started = Date.now();
    const response = await call(browser, '/api/echo/c');
    const elapsed = Date.now() - started;
    expect(response.status).toBe(503);
    expect(response.json()).toMatchObject({ error: 'idp_unavailable' });
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(elapsed).toBeGreaterThanOrEqual(4500);
    expect(elapsed).toBeLessThan(8000);
    expect(await stack.redis.client.exists(sessionKey(browser))).toBe(1);

    stack.idp.tokenEndpointFault = undefined;
    expect((await call(browser, '/api/echo/d')).status).toBe(200);
  }, 20_000);

  it('uses a token that is due for refresh but not expired while the provider fails', async () => {
    const browser = await stack.loginAs('bob');
    const loginToken = issued.at(-1)!.access_token;
    await untilRefreshDue();
    stack.idp.tokenEndpointFault = { kind: 'status', status: 503, grantType: 'refresh_token' };
    const since = stack.idp.tokenRequests.length;

    expect((await call(browser, '/api/echo/e')).status).toBe(200);
    expect(stack.echo.requests.at(-1)!.headers.authorization).toBe(`Bearer ${loginToken}`);
    expect(refreshRequestsSince(since)).toBe(1);
  });

  it('ends the session when a refreshed ID token names another subject', async () => {
    const browser = await stack.loginAs('alice');

    // Control: an ID token re-signed this way, with the same subject, is accepted (forced refresh on a 401).
    stack.idp.onTokenResponse = (body) => {
      record(body);
      if (typeof body.id_token === 'string') return { ...body, id_token: resigned(body.id_token, { name: 'Alice, re-signed' }) };
    };
    const refused = await call(browser, '/api/echo/status/401');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-echo')).toBe('yes');
    expect((await call(browser, '/bff/user')).json()).toMatchObject({ claims: { sub: 'u-1001', name: 'Alice, re-signed' } });

    let rotated: string | undefined;
    stack.idp.onTokenResponse = (body) => {
      record(body);
      rotated = body.refresh_token as string;
      if (typeof body.id_token === 'string') return { ...body, id_token: resigned(body.id_token, { sub: 'someone-else' }) };
    };
    await untilRefreshDue();
    const response = await call(browser, '/api/echo/f');
    expect(response.status).toBe(401);
    expect(response.json()).toMatchObject({ error: 'session_expired' });
    expect(await stack.redis.client.exists(sessionKey(browser))).toBe(0);
    expect((await call(browser, '/bff/user')).status).toBe(401);
    expect(stack.logs.some((line) => line.includes('refreshed ID token names another subject'))).toBe(true);

    // …and the refresh token that came with it was revoked.
    expect(rotated).toBeDefined();
    const reuse = await fetch(`${stack.idp.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(GATEWAY_CLIENT_ID)}:${encodeURIComponent(GATEWAY_CLIENT_SECRET)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rotated! }),
    });
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('ends the session no later than its refresh token (refresh_expires_in)', async () => {
    stack.idp.onTokenResponse = (body) => {
      record(body);
      if (typeof body.refresh_token === 'string') return { ...body, refresh_expires_in: 3 };
    };
    const before = Date.now();
    const browser = await stack.loginAs('bob');
    const after = Date.now();
    stack.idp.onTokenResponse = record;

    const key = sessionKey(browser);
    const cookie = `${stack.config.session.cookieName}=${browser.cookies(stack.url)[stack.config.session.cookieName]}`;
    const user = await call(browser, '/bff/user');
    expect(user.status).toBe(200);
    const absoluteExpiresAt = Date.parse(user.json<{ session: { absoluteExpiresAt: string } }>().session.absoluteExpiresAt);
    expect(absoluteExpiresAt).toBeGreaterThanOrEqual(before + 3000 - 50);
    expect(absoluteExpiresAt).toBeLessThanOrEqual(after + 3000 + 50);

    await sleep(absoluteExpiresAt - Date.now() + 500);
    // The browser may have dropped the cookie by now: send it anyway, the gateway must refuse it.
    for (const path of ['/bff/user', '/api/echo/g']) {
      expect((await fetch(`${stack.url}${path}`, { headers: { ...CSRF, cookie } })).status).toBe(401);
    }
    expect(await stack.redis.client.exists(key)).toBe(0);
  });

  it('answers 503 session_store_unavailable at once while Redis is down, and recovers by itself', async () => {
    const browser = await stack.loginAs('alice');
    await stack.redis.kill();

    for (const path of ['/api/echo/h', '/bff/user']) {
      const started = Date.now();
      const response = await call(browser, path);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(response.status).toBe(503);
      expect(response.json()).toMatchObject({ error: 'session_store_unavailable' });
    }

    await stack.redis.restart();
    // No gateway restart: its Redis client reconnects on its own (backing off up to a second).
    const deadline = Date.now() + 5000;
    let fresh: BrowserClient | undefined;
    while (!fresh) {
      fresh = await stack.loginAs('bob').catch((error: unknown) => {
        if (Date.now() > deadline) throw error;
        return sleep(200).then(() => undefined);
      });
    }
    expect((await call(fresh, '/bff/user')).status).toBe(200);
    expect((await call(fresh, '/api/echo/i')).status).toBe(200);
    // The restarted Redis is empty: the old session is simply gone.
    expect((await call(browser, '/bff/user')).status).toBe(401);
  });

  it('never made the provider see a refresh token twice', () => {
    expect(stack.idp.refreshTokenReuseDetected()).toBe(false);
  });
});
