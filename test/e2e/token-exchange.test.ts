import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import {
  ADMIN_CLIENT_ID,
  ADMIN_CLIENT_SECRET,
  type BrowserClient,
  DEMO_USERS,
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  type GatewayStack,
  startGatewayStack,
  TODOS_RESOURCE,
} from '#sessiongate/testing';

// Token exchange (RFC 8693) per route, against the demo IdP's real token-exchange grant (it checks the
// subject token and issues an audience-restricted JWT access token), Redis, and two gateway instances.

const CSRF = { 'x-csrf': '1' };
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ORDERS_RESOURCE = 'http://orders.api.test';
const REPORTS_RESOURCE = 'http://reports.api.test';
const RESOURCES = {
  [TODOS_RESOURCE]: { scope: 'todos:read todos:write' },
  [ORDERS_RESOURCE]: { scope: 'orders:read orders:write' },
  [REPORTS_RESOURCE]: { scope: 'reports:read' },
};
const ACCESS_TOKEN_TTL_SECONDS = 3;
const SKEW_SECONDS = 1;

function exchanges(stack: GatewayStack): number {
  return stack.idp.grantCount(EXCHANGE);
}

function upstreamToken(stack: GatewayStack): Record<string, unknown> {
  const [, token] = String(stack.echo.requests.at(-1)!.headers.authorization).split(' ');
  return decodeJwt(token!);
}

function exchangeRoutes(echo: string) {
  return [
    { prefix: '/api/orders', target: `${echo}/orders`, token: 'exchange' as const, resource: ORDERS_RESOURCE, scopes: 'orders:read' },
    { prefix: '/api/reports', target: `${echo}/reports`, token: 'exchange' as const, audience: REPORTS_RESOURCE },
    { prefix: '/api/unknown', target: `${echo}/unknown`, token: 'exchange' as const, resource: 'http://unknown.api.test' },
  ];
}

describe('token exchange routes', () => {
  let stack: GatewayStack;
  let browser: BrowserClient;

  beforeAll(async () => {
    stack = await startGatewayStack({
      idp: { resources: RESOURCES, accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS },
      env: { TOKEN_REFRESH_SKEW: String(SKEW_SECONDS) },
      routes: ({ echo }) => exchangeRoutes(echo),
    });
  });

  beforeEach(async () => {
    browser = await stack.loginAs('alice');
    stack.idp.events.length = 0;
    stack.idp.tokenRequests.length = 0;
  });

  afterAll(() => stack?.stop());

  it("exchanges the user's token once per target and caches the result in the session", async () => {
    for (let call = 0; call < 3; call++) expect((await browser.get(`${stack.url}/api/orders/list`, { headers: CSRF })).status).toBe(200);
    expect(exchanges(stack)).toBe(1);
    const orders = upstreamToken(stack);
    expect(orders).toMatchObject({ aud: ORDERS_RESOURCE, scope: 'orders:read', client_id: 'sessiongate' });
    expect(orders.sub).toBe(DEMO_USERS.find((user) => user.username === 'alice')!.sub);
    expect((await browser.get(`${stack.url}/api/reports/daily`, { headers: CSRF })).status).toBe(200);
    expect(upstreamToken(stack)).toMatchObject({ aud: REPORTS_RESOURCE, scope: 'reports:read' });
    expect(exchanges(stack)).toBe(2);
    expect(stack.idp.tokenRequests).toEqual([
      expect.objectContaining({
        grantType: EXCHANGE,
        resource: ORDERS_RESOURCE,
        scope: 'orders:read',
        subjectTokenType: expect.stringMatching(/access_token$/),
      }),
      expect.objectContaining({ grantType: EXCHANGE, resource: REPORTS_RESOURCE }),
    ]);
  });

  it('exchanges again once the token nears expiry, refreshing the expired subject token first', async () => {
    await browser.get(`${stack.url}/api/orders/list`, { headers: CSRF });
    const first = upstreamToken(stack).jti;
    await sleep(ACCESS_TOKEN_TTL_SECONDS * 1000 + 200);
    expect((await browser.get(`${stack.url}/api/orders/list`, { headers: CSRF })).status).toBe(200);
    expect(upstreamToken(stack).jti).not.toBe(first);
    expect(stack.idp.tokenRequests.map((request) => request.grantType)).toEqual([EXCHANGE, 'refresh_token', EXCHANGE]);
  });

  it('answers 403 exchange_refused when the provider refuses, and keeps the session', async () => {
    const unknown = await browser.get(`${stack.url}/api/unknown/x`, { headers: CSRF });
    expect(unknown.status).toBe(403);
    expect(unknown.json()).toMatchObject({ error: 'exchange_refused' });
    stack.idp.tokenEndpointFault = { kind: 'status', status: 400, error: 'invalid_grant', grantType: EXCHANGE };
    try {
      const refused = await browser.get(`${stack.url}/api/orders/list`, { headers: CSRF });
      expect(refused.status).toBe(403);
      expect(refused.json()).toMatchObject({ error: 'exchange_refused' });
    } finally {
      stack.idp.tokenEndpointFault = undefined;
    }
    expect((await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(200);
    expect((await browser.get(`${stack.url}/api/orders/list`, { headers: CSRF })).status).toBe(200);
  });

  it('runs one exchange per session and target when two instances race', async () => {
    const other = await stack.startInstance();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => browser.get(`${index % 2 ? other : stack.url}/api/reports/r`, { headers: CSRF })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(exchanges(stack)).toBe(1);
  });

  it('can exchange the ID token where the provider wants that (TOKEN_EXCHANGE_SUBJECT_TOKEN=id_token)', async () => {
    const other = await stack.startInstance({ TOKEN_EXCHANGE_SUBJECT_TOKEN: 'id_token' });
    expect((await browser.get(`${other}/api/orders/list`, { headers: CSRF })).status).toBe(200);
    expect(stack.idp.tokenRequests).toEqual([
      expect.objectContaining({ grantType: EXCHANGE, subjectTokenType: expect.stringMatching(/id_token$/) }),
    ]);
    expect(exchanges(stack)).toBe(1);
  });
});

describe("the demo IdP's token-exchange grant", () => {
  let stack: GatewayStack;
  let subjectToken: string;

  const exchange = (client: string, secret: string, parameters: Record<string, string>) =>
    fetch(`${stack.idp.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(client)}:${encodeURIComponent(secret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: EXCHANGE,
        subject_token: subjectToken,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource: ORDERS_RESOURCE,
        ...parameters,
      }),
    });

  beforeAll(async () => {
    stack = await startGatewayStack({ idp: { resources: RESOURCES } });
    stack.idp.onTokenResponse = (body) => {
      if (body.id_token !== undefined) subjectToken = String(body.access_token);
      return undefined;
    };
    await stack.loginAs('bob');
  });

  afterAll(() => stack?.stop());

  it('issues an audience-restricted token for a real access token of the calling client', async () => {
    const response = await exchange(GATEWAY_CLIENT_ID, GATEWAY_CLIENT_SECRET, { scope: 'orders:read todos:read' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, string>;
    expect(body).toMatchObject({
      token_type: 'Bearer',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'orders:read',
    });
    expect(decodeJwt(body.access_token!)).toMatchObject({ aud: ORDERS_RESOURCE, sub: 'u-1002', client_id: GATEWAY_CLIENT_ID });
  });

  it("refuses another client's token, a forged one, and an unknown resource", async () => {
    const otherClient = await exchange(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, {});
    expect(otherClient.status).toBe(400);
    expect(await otherClient.json()).toMatchObject({ error: 'invalid_grant' });
    const forged = await exchange(GATEWAY_CLIENT_ID, GATEWAY_CLIENT_SECRET, { subject_token: `${subjectToken.slice(0, -4)}AAAA` });
    expect(await forged.json()).toMatchObject({ error: 'invalid_grant' });
    const target = await exchange(GATEWAY_CLIENT_ID, GATEWAY_CLIENT_SECRET, { resource: 'http://nowhere.test' });
    expect(await target.json()).toMatchObject({ error: 'invalid_target' });
  });
});

describe('token exchange with DPoP', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({
      idp: { resources: RESOURCES },
      env: { OIDC_DPOP: 'true' },
      routes: ({ echo }) => exchangeRoutes(echo),
    });
  });

  afterAll(() => stack?.stop());

  it('binds the exchanged token to the session key and sends it as DPoP', async () => {
    const browser = await stack.loginAs('alice');
    expect((await browser.get(`${stack.url}/api/orders/list`, { headers: CSRF })).status).toBe(200);
    const { headers } = stack.echo.requests.at(-1)!;
    expect(String(headers.authorization)).toMatch(/^DPoP /);
    expect(headers.dpop).toEqual(expect.any(String));
    const claims = upstreamToken(stack) as { cnf?: { jkt?: string }; aud?: string };
    expect(claims.aud).toBe(ORDERS_RESOURCE);
    expect(claims.cnf?.jkt).toEqual(expect.any(String));
    expect(stack.idp.tokenRequests.filter((request) => request.grantType === EXCHANGE)).toEqual([expect.objectContaining({ dpop: true })]);
  });
});
