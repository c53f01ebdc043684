import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayStack, startGatewayStack, TODOS_RESOURCE } from '#sessiongate/testing';

// Per-API access tokens and the route token modes (issue 3), against oidc-provider with resource
// indicators and rotating refresh tokens; the demo APIs check `aud` and scope with passport-jwt.

const CSRF = { 'x-csrf': '1' };
const ACCESS_TOKEN_TTL_SECONDS = 3;
const SKEW_SECONDS = 1;
const NOTES_RESOURCE = 'http://notes.api.test';
const REPORTS_RESOURCE = 'http://reports.api.test';
const RESOURCES = {
  [TODOS_RESOURCE]: { scope: 'todos:read todos:write' },
  [NOTES_RESOURCE]: { scope: 'notes:read notes:write' },
  [REPORTS_RESOURCE]: { scope: 'reports:read' },
};
const OIDC_SCOPES = 'openid profile email offline_access todos:read todos:write notes:read notes:write';

const untilExpired = () => sleep(ACCESS_TOKEN_TTL_SECONDS * 1000 + 200);
const untilRefreshDue = () => sleep((ACCESS_TOKEN_TTL_SECONDS - SKEW_SECONDS) * 1000 + 200);

/** What the demo API's echo path says about the token it accepted. */
interface DemoEcho {
  readonly sub: string;
  readonly aud: string | string[];
  readonly scope: string;
  readonly jti: string;
}

function newTokenRequests(stack: GatewayStack, since: number) {
  return stack.idp.tokenRequests.slice(since).map(({ grantType, resource, scope }) => ({ grantType, resource, scope }));
}

function refreshFailures(stack: GatewayStack) {
  return stack.idp.events.filter((event) => event.name === 'grant.error');
}

function bearers(stack: GatewayStack, since: number): (string | undefined)[] {
  return stack.echo.requests.slice(since).map((request) => request.headers.authorization as string | undefined);
}

describe('per-API access tokens and route token modes', () => {
  let stack: GatewayStack;
  /** Every access token the provider issued, oldest first. */
  const issued: string[] = [];

  beforeAll(async () => {
    stack = await startGatewayStack({
      idp: { accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS, resources: RESOURCES },
      env: { TOKEN_REFRESH_SKEW: String(SKEW_SECONDS), OIDC_SCOPES },
      audienceApis: { notes: { audience: NOTES_RESOURCE, requiredScope: 'notes:read' } },
      routes: ({ todosApi, echo, audienceApis }) => [
        { prefix: '/api/todos', target: todosApi, resource: TODOS_RESOURCE },
        { prefix: '/api/notes', target: audienceApis.notes!, resource: NOTES_RESOURCE },
        { prefix: '/api/todos-read', target: todosApi, resource: TODOS_RESOURCE, scopes: 'todos:read' },
        { prefix: '/api/reports', target: `${echo}/reports`, token: 'client', resource: REPORTS_RESOURCE },
        { prefix: '/api/maybe', target: `${echo}/maybe`, token: 'optional' },
      ],
    });
    stack.idp.onTokenResponse = (body) => {
      if (typeof body.access_token === 'string') issued.push(body.access_token);
    };
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('gives each API a token for its own audience, obtained once and then reused', async () => {
    const browser = await stack.loginAs('alice');
    const since = stack.idp.tokenRequests.length;

    const notes = await browser.get(`${stack.url}/api/notes/whoami`, { headers: CSRF });
    expect(notes.status).toBe(200);
    expect(notes.json<DemoEcho>()).toMatchObject({ sub: 'u-1001', aud: NOTES_RESOURCE });
    const todos = await browser.get(`${stack.url}/api/todos/whoami`, { headers: CSRF });
    expect(todos.status).toBe(200);
    expect(todos.json<DemoEcho>()).toMatchObject({ sub: 'u-1001', aud: TODOS_RESOURCE });
    expect(newTokenRequests(stack, since)).toEqual([
      { grantType: 'refresh_token', resource: NOTES_RESOURCE, scope: undefined },
      { grantType: 'refresh_token', resource: TODOS_RESOURCE, scope: undefined },
    ]);
    // The APIs really tell the audiences apart: neither takes the other's token.
    const [notesToken, todosToken] = issued.slice(-2);
    expect((await fetch(`${stack.audienceApis.notes!.url}/whoami`, { headers: { authorization: `Bearer ${todosToken}` } })).status).toBe(
      401,
    );
    expect((await fetch(`${stack.todosApi.url}/whoami`, { headers: { authorization: `Bearer ${notesToken}` } })).status).toBe(401);

    for (let round = 0; round < 3; round++) {
      const [notesAgain, todosAgain] = await Promise.all([
        browser.get(`${stack.url}/api/notes/whoami`, { headers: CSRF }),
        browser.get(`${stack.url}/api/todos/whoami`, { headers: CSRF }),
      ]);
      expect(notesAgain.json<DemoEcho>().jti).toBe(notes.json<DemoEcho>().jti);
      expect(todosAgain.json<DemoEcho>().jti).toBe(todos.json<DemoEcho>().jti);
    }
    expect(stack.idp.tokenRequests).toHaveLength(since + 2);
  });

  it('alternates between two APIs through rotations of one refresh token without a reuse', async () => {
    const browser = await stack.loginAs('bob');
    const since = stack.idp.tokenRequests.length;
    const call = (api: 'notes' | 'todos') => browser.get(`${stack.url}/api/${api}/whoami`, { headers: CSRF, from: `${stack.url}/` });

    for (const api of ['notes', 'todos', 'notes', 'todos'] as const) expect((await call(api)).status).toBe(200);
    await untilExpired();
    // Both APIs' tokens are due at once: two refreshes for different resources, run one after the other.
    const responses = await Promise.all((['notes', 'todos', 'notes', 'todos', 'notes', 'todos'] as const).map(call));
    expect(responses.map((response) => response.status)).toEqual(Array(6).fill(200));
    expect(responses.map((response) => response.json<DemoEcho>().aud)).toEqual([
      NOTES_RESOURCE,
      TODOS_RESOURCE,
      NOTES_RESOURCE,
      TODOS_RESOURCE,
      NOTES_RESOURCE,
      TODOS_RESOURCE,
    ]);
    await untilExpired();
    for (const api of ['todos', 'notes'] as const) expect((await call(api)).status).toBe(200);

    const refreshes = newTokenRequests(stack, since);
    expect(refreshes.map((request) => request.resource)).toEqual(expect.arrayContaining([NOTES_RESOURCE, TODOS_RESOURCE]));
    expect(refreshes).toHaveLength(6);
    expect(refreshes.every((request) => request.grantType === 'refresh_token')).toBe(true);
    expect(stack.idp.refreshTokenReuseDetected()).toBe(false);
    expect(refreshFailures(stack)).toEqual([]);
  });

  it('narrows the scopes of a route with "scopes"', async () => {
    const browser = await stack.loginAs('alice');
    const since = stack.idp.tokenRequests.length;

    const narrowed = await browser.get(`${stack.url}/api/todos-read/whoami`, { headers: CSRF });
    expect(narrowed.status).toBe(200);
    expect(narrowed.json<DemoEcho>()).toMatchObject({ aud: TODOS_RESOURCE, scope: 'todos:read' });
    const full = await browser.get(`${stack.url}/api/todos/whoami`, { headers: CSRF });
    expect(full.json<DemoEcho>().scope.split(' ').sort()).toEqual(['todos:read', 'todos:write']);
    expect(newTokenRequests(stack, since)).toEqual([
      { grantType: 'refresh_token', resource: TODOS_RESOURCE, scope: 'todos:read' },
      { grantType: 'refresh_token', resource: TODOS_RESOURCE, scope: undefined },
    ]);
  });

  it('shares one client-credentials token per API across sessions, and renews it once near expiry', async () => {
    const [alice, bob] = await Promise.all([stack.loginAs('alice'), stack.loginAs('bob')]);
    const since = stack.idp.tokenRequests.length;
    const seen = stack.echo.requests.length;

    const responses = await Promise.all(
      [alice, bob, alice, bob].map((browser, index) => browser.get(`${stack.url}/api/reports/r${index}`, { headers: CSRF })),
    );
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    const shared = bearers(stack, seen);
    expect(new Set(shared).size).toBe(1);
    expect(shared[0]).toMatch(/^Bearer /);
    expect(newTokenRequests(stack, since)).toEqual([{ grantType: 'client_credentials', resource: REPORTS_RESOURCE, scope: undefined }]);
    // The client token is not the users' token for any API.
    expect(issued.slice(0, -1)).not.toContain(shared[0]!.slice('Bearer '.length));

    // A client-mode route does not look at the session at all: a browser without one gets the same
    // token; only the CSRF header stands in front of it.
    const anonymous = stack.browser();
    expect((await anonymous.get(`${stack.url}/api/reports/anonymous`, { headers: CSRF })).status).toBe(200);
    expect(bearers(stack, seen).at(-1)).toBe(shared[0]);
    const forged = await alice.get(`${stack.url}/api/reports/no-csrf`);
    expect(forged.status).toBe(403);
    expect(forged.json()).toMatchObject({ error: 'csrf' });

    await untilRefreshDue();
    const seenLater = stack.echo.requests.length;
    const later = await Promise.all(
      [alice, bob, anonymous, alice, bob, anonymous].map((browser, index) =>
        browser.get(`${stack.url}/api/reports/l${index}`, { headers: CSRF }),
      ),
    );
    expect(later.map((response) => response.status)).toEqual(Array(6).fill(200));
    const renewed = bearers(stack, seenLater);
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]).not.toBe(shared[0]);
    expect(newTokenRequests(stack, since).filter((request) => request.grantType === 'client_credentials')).toHaveLength(2);
    expect(newTokenRequests(stack, since).filter((request) => request.grantType !== 'client_credentials')).toEqual([]);
  });

  it('sends the user token on an optional route with a session, and no token without one', async () => {
    const anonymous = stack.browser();
    const seen = stack.echo.requests.length;
    expect((await anonymous.get(`${stack.url}/api/maybe/x`, { headers: CSRF })).status).toBe(200);
    expect(stack.echo.requests.slice(seen)).toHaveLength(1);
    expect(stack.echo.requests.at(-1)!.headers.authorization).toBeUndefined();

    const alice = await stack.loginAs('alice');
    const loginToken = issued.at(-1);
    expect((await alice.get(`${stack.url}/api/maybe/y`, { headers: CSRF })).status).toBe(200);
    expect(stack.echo.requests.at(-1)!.headers.authorization).toBe(`Bearer ${loginToken}`);
    expect((await alice.get(`${stack.url}/api/maybe/z`)).status).toBe(403);
  });

  it('on a downstream 401, refreshes once and retries once', async () => {
    const alice = await stack.loginAs('alice');
    const loginToken = issued.at(-1)!;
    let since = stack.idp.tokenRequests.length;
    let seen = stack.echo.requests.length;

    // An API that refuses every token: one forced refresh, one retry, then its 401 goes to the client.
    const refused = await alice.get(`${stack.url}/api/echo/status/401`, { headers: CSRF });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-echo')).toBe('yes');
    expect(stack.echo.requests.slice(seen).map((request) => request.url)).toEqual(['/v1/status/401', '/v1/status/401']);
    expect(newTokenRequests(stack, since)).toEqual([{ grantType: 'refresh_token', resource: undefined, scope: undefined }]);
    const renewed = issued.at(-1)!;
    expect(bearers(stack, seen)).toEqual([`Bearer ${loginToken}`, `Bearer ${renewed}`]);

    // An API that refuses (revoked) just the current token: the retry with the new one succeeds.
    since = stack.idp.tokenRequests.length;
    seen = stack.echo.requests.length;
    const recovered = await alice.get(`${stack.url}/api/echo/reject-token?token=${encodeURIComponent(renewed)}`, { headers: CSRF });
    expect(recovered.status).toBe(200);
    expect(newTokenRequests(stack, since)).toEqual([{ grantType: 'refresh_token', resource: undefined, scope: undefined }]);
    const newest = issued.at(-1)!;
    expect(newest).not.toBe(renewed);
    expect(bearers(stack, seen)).toEqual([`Bearer ${renewed}`, `Bearer ${newest}`]);
    // …and the new token is the one stored for later calls.
    expect((await alice.get(`${stack.url}/api/echo/next`, { headers: CSRF })).status).toBe(200);
    expect(bearers(stack, seen).at(-1)).toBe(`Bearer ${newest}`);
    expect(stack.idp.tokenRequests).toHaveLength(since + 1);
    expect(stack.idp.refreshTokenReuseDetected()).toBe(false);
  });
});

describe('TOKEN_RESOURCE_PARAMETER=audience', () => {
  let stack: GatewayStack;
  /** The form parameters of each POST to a `/token` endpoint, as the gateway sent them. */
  const sent: URLSearchParams[] = [];
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    // The provider ignores (and does not record) an `audience` parameter, so the gateway's outgoing
    // token requests are read here; openid-client calls the global fetch at request time.
    globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (init?.method === 'POST' && new URL(url).pathname === '/token' && init.body != null)
        sent.push(new URLSearchParams(String(init.body)));
      return realFetch(input, init);
    }) as typeof fetch;
    stack = await startGatewayStack({
      idp: { resources: RESOURCES },
      env: { TOKEN_RESOURCE_PARAMETER: 'audience', OIDC_SCOPES },
      routes: ({ echo }) => [{ prefix: '/api/notes-echo', target: echo, resource: NOTES_RESOURCE }],
    });
  });

  afterAll(async () => {
    globalThis.fetch = realFetch;
    await stack.stop();
  });

  it('names the API with `audience` instead of `resource`', async () => {
    const browser = await stack.loginAs('alice');
    const since = stack.idp.tokenRequests.length;
    sent.length = 0;

    expect((await browser.get(`${stack.url}/api/notes-echo/x`, { headers: CSRF })).status).toBe(200);

    const refreshes = sent.filter((parameters) => parameters.get('grant_type') === 'refresh_token');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.getAll('audience')).toEqual([NOTES_RESOURCE]);
    expect(refreshes[0]!.has('resource')).toBe(false);
    // What the provider saw: a refresh without a resource indicator.
    expect(newTokenRequests(stack, since)).toEqual([{ grantType: 'refresh_token', resource: undefined, scope: undefined }]);
  });
});
