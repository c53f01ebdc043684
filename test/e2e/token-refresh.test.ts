import { type BrowserClient, GATEWAY_CLIENT_SECRET, type GatewayStack, startGatewayStack } from '#sessiongate/testing';

const CSRF = { 'x-csrf': '1' };
const ACCESS_TOKEN_TTL_SECONDS = 3;
const SKEW_SECONDS = 1;

/** The access and refresh tokens of each token response the provider sent, oldest first. */
function recordIssuedTokens(stack: GatewayStack): { access: string[]; refresh: string[] } {
  const issued = { access: [] as string[], refresh: [] as string[] };
  stack.idp.onTokenResponse = (body) => {
    if (typeof body.access_token === 'string') issued.access.push(body.access_token);
    if (typeof body.refresh_token === 'string') issued.refresh.push(body.refresh_token);
  };
  return issued;
}

function refreshGrants(stack: GatewayStack): number {
  return stack.idp.events.filter((event) => event.name === 'grant.success' && event.grantType === 'refresh_token').length;
}

function refreshFailures(stack: GatewayStack) {
  return stack.idp.events.filter((event) => event.name === 'grant.error');
}

function bearerOfLastEcho(stack: GatewayStack): string | undefined {
  return stack.echo.requests.at(-1)?.headers.authorization as string | undefined;
}

async function sessionKeys(stack: GatewayStack): Promise<string[]> {
  return stack.redis.client.keys('sg:{*}:s');
}

/** Waits until the first access token is inside the refresh window (expiry minus skew). */
const untilRefreshDue = () => new Promise((resolve) => setTimeout(resolve, (ACCESS_TOKEN_TTL_SECONDS - SKEW_SECONDS) * 1000 + 200));
const untilExpired = () => new Promise((resolve) => setTimeout(resolve, ACCESS_TOKEN_TTL_SECONDS * 1000 + 200));

describe('access token refresh', () => {
  let stack: GatewayStack;
  let issued: { access: string[]; refresh: string[] };
  let browser: BrowserClient;

  beforeEach(async () => {
    stack = await startGatewayStack({
      idp: { accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS },
      env: { TOKEN_REFRESH_SKEW: String(SKEW_SECONDS) },
    });
    issued = recordIssuedTokens(stack);
    browser = await stack.loginAs('alice');
  });

  afterEach(async () => {
    await stack.stop();
  });

  it('uses the stored token while it is fresh, and refreshes it once it nears expiry', async () => {
    expect((await browser.get(`${stack.url}/api/echo/a`, { headers: CSRF })).status).toBe(200);
    expect(bearerOfLastEcho(stack)).toBe(`Bearer ${issued.access[0]}`);
    expect(refreshGrants(stack)).toBe(0);

    await untilRefreshDue();
    expect((await browser.get(`${stack.url}/api/echo/b`, { headers: CSRF })).status).toBe(200);
    expect(refreshGrants(stack)).toBe(1);
    expect(issued.access).toHaveLength(2);
    expect(bearerOfLastEcho(stack)).toBe(`Bearer ${issued.access[1]}`);

    // The rotated refresh token was stored: the next refresh uses it without the provider seeing a reuse.
    await untilRefreshDue();
    expect((await browser.get(`${stack.url}/api/todos/todos`, { headers: CSRF })).status).toBe(200);
    expect(refreshGrants(stack)).toBe(2);
    expect(new Set(issued.refresh).size).toBe(3);
    expect(refreshFailures(stack)).toEqual([]);
  });

  it('makes one refresh for many concurrent requests of one session', async () => {
    await untilExpired();
    const responses = await Promise.all(
      Array.from({ length: 25 }, (_, i) => browser.get(`${stack.url}/api/echo/c${i}`, { headers: CSRF, from: `${stack.url}/` })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(25).fill(200));
    expect(refreshGrants(stack)).toBe(1);
    expect(refreshFailures(stack)).toEqual([]);
    const bearers = new Set(stack.echo.requests.slice(-25).map((request) => request.headers.authorization));
    expect(bearers).toEqual(new Set([`Bearer ${issued.access[1]}`]));
  });

  it('ends the session with 401 session_expired when the provider refuses the refresh token', async () => {
    const revoked = await fetch(`${stack.idp.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(stack.config.oidc.clientId)}:${encodeURIComponent(GATEWAY_CLIENT_SECRET)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: issued.refresh[0]!, token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    await untilRefreshDue();

    const response = await browser.get(`${stack.url}/api/echo/d`, { headers: CSRF });
    expect(response.status).toBe(401);
    expect(response.json()).toMatchObject({ error: 'session_expired' });
    expect(await sessionKeys(stack)).toEqual([]);
    expect((await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(401);
  });

  it('keeps the session and answers 503 idp_unavailable when the provider is down and the token has expired', async () => {
    await stack.idp.stop();
    await untilExpired();
    const response = await browser.get(`${stack.url}/api/echo/e`, { headers: CSRF });
    expect(response.status).toBe(503);
    expect(response.json()).toMatchObject({ error: 'idp_unavailable' });
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(await sessionKeys(stack)).toHaveLength(1);
    expect((await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(200);
  });

  it('still uses a token that has not expired yet when the provider is down inside the refresh window', async () => {
    await stack.idp.stop();
    await untilRefreshDue();
    const response = await browser.get(`${stack.url}/api/echo/f`, { headers: CSRF });
    expect(response.status).toBe(200);
    expect(bearerOfLastEcho(stack)).toBe(`Bearer ${issued.access[0]}`);
  });
});
