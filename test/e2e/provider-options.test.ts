import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEMO_USERS,
  type DemoUser,
  freePort,
  type GatewayStack,
  startGatewayProcess,
  startGatewayStack,
  TODOS_RESOURCE,
} from '#sessiongate/testing';

// The provider options of docs/INTEROP.md against the demo oidc-provider: OIDC_FETCH_USERINFO (claims only
// userinfo has, in /bff/user and route policies), OIDC_AUTHORIZATION_RESOURCES (RFC 8707 `resource` in the
// authorization request and the PAR body), and `invalid_target` answered 403 `resource_refused`.

const CSRF = { 'x-csrf': '1' };
/** A resource the provider does not know: it answers `invalid_target` (RFC 8707 §2) to any request for it. */
const UNKNOWN_RESOURCE = 'http://unknown.api.test';

/** Alice and Bob, plus claims their provider puts in userinfo only (OIDC Core §5.4), one contradicting the ID token. */
const USERS: readonly DemoUser[] = [
  { ...DEMO_USERS[0]!, userinfoClaims: { department: 'finance', name: 'Not Alice' } },
  { ...DEMO_USERS[1]!, userinfoClaims: { department: 'sales' } },
];

describe('OIDC_FETCH_USERINFO and invalid_target', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({
      // No default resource: the login's access token is one oidc-provider's userinfo endpoint accepts. No
      // rotation: oidc-provider 9 rotates a refresh token before it checks the resource, so that its
      // invalid_target spends the token (docs/TOKENS.md).
      idp: { users: USERS, defaultResource: null, rotateRefreshToken: false },
      env: { OIDC_FETCH_USERINFO: 'true' },
      routes: ({ echo, todosApi }) => [
        { prefix: '/api/todos', target: todosApi, resource: TODOS_RESOURCE },
        { prefix: '/api/finance', target: `${echo}/finance`, require: { department: 'finance' } },
        { prefix: '/api/alice', target: `${echo}/alice`, require: { name: 'Alice Anderson' } },
        { prefix: '/api/unknown', target: `${echo}/unknown`, resource: UNKNOWN_RESOURCE },
      ],
    });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('/bff/user shows the ID token’s claims and userinfo’s, the ID token’s winning a conflict', async () => {
    const alice = await stack.loginAs('alice');
    const user = await alice.get(`${stack.url}/bff/user`, { headers: CSRF });
    expect(user.status).toBe(200);
    expect(user.json<{ claims: Record<string, unknown> }>().claims).toMatchObject({
      sub: 'u-1001',
      name: 'Alice Anderson',
      department: 'finance',
      groups: ['staff'],
    });
  });

  it('judges route policies on userinfo claims the ID token lacks, and on the ID token’s over userinfo’s', async () => {
    const alice = await stack.loginAs('alice');
    const bob = await stack.loginAs('bob');
    expect((await alice.get(`${stack.url}/api/finance/q`, { headers: CSRF })).status).toBe(200);
    expect((await alice.get(`${stack.url}/api/alice/q`, { headers: CSRF })).status).toBe(200);
    expect((await bob.get(`${stack.url}/api/finance/q`, { headers: CSRF })).json()).toMatchObject({ error: 'forbidden' });
    expect(stack.echo.requests.filter((request) => request.url.startsWith('/finance'))).toHaveLength(1);
  });

  it('refuses a login whose userinfo names another subject than the ID token (OIDC Core §5.3.4)', async () => {
    // A provider whose userinfo describes someone else: oidc-provider itself always answers the grant's subject.
    stack.idp.onUserinfoResponse = (body) => ({ ...body, sub: 'u-1002' });
    try {
      const browser = stack.browser();
      const landing = await browser.login(stack.url, { username: 'alice', password: 'alice' });
      expect(landing.status).toBe(400);
      expect(JSON.parse(landing.body)).toMatchObject({ error: 'invalid_id_token' });
      expect((await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(401);
    } finally {
      stack.idp.onUserinfoResponse = undefined;
    }
  });

  it('refuses to start against a provider that publishes no userinfo_endpoint, naming OIDC_FETCH_USERINFO', async () => {
    const server = createServer((_request, response) => {
      const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: stack.idp.jwksUri,
          response_types_supported: ['code'],
        }),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // The built gateway in a process of its own (npm run build first), as the start-up tests run it.
      await expect(startGatewayProcess({ ...stack.env, OIDC_ISSUER: issuer, PORT: String(await freePort()) })).rejects.toThrow(
        'OIDC_FETCH_USERINFO: the provider publishes no userinfo_endpoint',
      );
    } finally {
      server.close();
    }
  });

  it('answers invalid_target with 403 resource_refused, without Retry-After, and keeps the session', async () => {
    const alice = await stack.loginAs('alice');
    const refused = await alice.get(`${stack.url}/api/unknown/q`, { headers: CSRF });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'resource_refused' });
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(stack.echo.requests.some((request) => request.url.startsWith('/unknown'))).toBe(false);
    expect(stack.idp.tokenRequests.at(-1)).toMatchObject({ grantType: 'refresh_token', resource: UNKNOWN_RESOURCE });
    // The refresh token was not spent on the refusal: the session and its other APIs still work.
    expect((await alice.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(200);
    expect((await alice.get(`${stack.url}/api/todos`, { headers: CSRF })).status).toBe(200);
    expect(stack.logs.some((line) => line.includes('resource_refused') && line.includes('invalid_target'))).toBe(true);
  });
});

describe('OIDC_AUTHORIZATION_RESOURCES', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({
      env: { OIDC_AUTHORIZATION_RESOURCES: TODOS_RESOURCE },
      routes: ({ echo }) => [
        { prefix: '/api/unknown', target: `${echo}/unknown`, resource: UNKNOWN_RESOURCE },
        { prefix: '/api/todos-read', target: `${echo}/todos-read`, resource: TODOS_RESOURCE, scopes: 'todos:read' },
      ],
    });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('sends each as a `resource` of the authorization request', async () => {
    const url = await stack.startInstance({ OIDC_USE_PAR: 'false', OIDC_AUTHORIZATION_RESOURCES: `${TODOS_RESOURCE} urn:example:b` });
    const login = await stack.browser().get(`${url}/bff/login`, { followRedirects: false, from: url });
    expect(login.status).toBe(302);
    expect(new URL(login.headers.get('location')!).searchParams.getAll('resource')).toEqual([TODOS_RESOURCE, 'urn:example:b']);
  });

  it('sends them in the PAR body: the provider grants them, or refuses an unknown one (403 resource_refused)', async () => {
    const alice = await stack.loginAs('alice');
    expect((await alice.get(`${stack.url}/api/todos`, { headers: CSRF })).status).toBe(200);

    const url = await stack.startInstance({ OIDC_AUTHORIZATION_RESOURCES: UNKNOWN_RESOURCE });
    const login = await stack.browser().get(`${url}/bff/login`, { followRedirects: false, from: url });
    expect(login.status).toBe(403);
    expect(login.json()).toMatchObject({ error: 'resource_refused' });
  });

  it('a trap of oidc-provider 9 (which rotates refresh tokens here): its invalid_target has spent the refresh token', async () => {
    const alice = await stack.loginAs('alice');
    expect((await alice.get(`${stack.url}/api/unknown/q`, { headers: CSRF })).json()).toMatchObject({ error: 'resource_refused' });
    // It rotated the token before it checked the resource: the next refresh sends a used one, and the grant is revoked.
    const next = await alice.get(`${stack.url}/api/todos-read/q`, { headers: CSRF });
    expect(next.json()).toMatchObject({ error: 'session_expired' });
    expect(stack.idp.refreshTokenReuseDetected()).toBe(true);
  });
});
