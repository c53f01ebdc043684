import { DEMO_USERS, type DemoUser, type GatewayStack, startGatewayStack, TODOS_RESOURCE } from '#sessiongate/testing';

// Route policies (issue 12): `methods`, `require` on the session's ID-token claims and on the route token's
// scope, and ROUTES_DEFAULT_REQUIRE, through the real gateway, Redis and oidc-provider. The users' claims are
// what the provider puts in their ID tokens (libs/demo: DemoUser.claims), hostile ones included.

const CSRF = { 'x-csrf': '1' };

/** Users a careless or hostile provider might describe: the gateway sees these claims in signed ID tokens. */
const HOSTILE_USERS: readonly DemoUser[] = [
  // Claims of the wrong shape: a string where an array is expected and the reverse, a string "true".
  {
    sub: 'u-2001',
    username: 'mallory',
    password: 'mallory',
    name: 'Mallory',
    email: 'bob@example.com@evil.com',
    claims: { groups: 'ops', email_verified: 'true', department: ['finance'] },
  },
  // Look-alikes: Cyrillic о in "оps", a fullwidth ｏ, and a zero-width space in the email.
  {
    sub: 'u-2002',
    username: 'eve',
    password: 'eve',
    name: 'Eve',
    email: 'bob@exam\u200bple.com',
    claims: { groups: ['\u043eps', '\uff4fps', 'OPS', 'ops-readonly'], realm_access: ['operator'] },
  },
  // Decomposed (NFD) "José", which is the composed (NFC) one after normalisation.
  { sub: 'u-2003', username: 'jose', password: 'jose', name: 'Jose\u0301', email: 'jose@example.com', claims: { department: 'audit' } },
];

interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
}

let stack: GatewayStack;

beforeAll(async () => {
  stack = await startGatewayStack({
    idp: { users: [...DEMO_USERS, ...HOSTILE_USERS] },
    routes: ({ echo }) => [
      { prefix: '/api/ops', target: `${echo}/ops`, require: { groups: { containsAnyOf: ['ops'] } } },
      { prefix: '/api/bob', target: `${echo}/bob`, require: { email: 'bob@example.com', email_verified: true } },
      { prefix: '/api/realm', target: `${echo}/realm`, require: { 'realm_access.roles': { containsAnyOf: ['operator'] } } },
      { prefix: '/api/money', target: `${echo}/money`, require: { department: { anyOf: ['finance', 'audit'] } } },
      { prefix: '/api/jose', target: `${echo}/jose`, require: { name: 'Jos\u00e9' } },
      { prefix: '/api/read-only', target: `${echo}/read-only`, methods: ['GET', 'HEAD'] },
      { prefix: '/api/write', target: `${echo}/write`, resource: TODOS_RESOURCE, require: { scope: ['todos:write'] } },
      { prefix: '/api/admin', target: `${echo}/admin`, resource: TODOS_RESOURCE, require: { scope: 'todos:admin' } },
      {
        prefix: '/api/asked-read',
        target: `${echo}/asked-read`,
        resource: TODOS_RESOURCE,
        scopes: 'todos:read',
        require: { scope: 'todos:read' },
      },
      {
        prefix: '/api/asked-write',
        target: `${echo}/asked-write`,
        resource: TODOS_RESOURCE,
        scopes: 'todos:read',
        require: { scope: 'todos:write' },
      },
      { prefix: '/api/open', target: `${echo}/open`, require: {} },
      { prefix: '/api/anonymous-ops', target: `${echo}/anonymous-ops`, token: 'none', require: { groups: { containsAnyOf: ['ops'] } } },
    ],
  });
});

afterAll(async () => {
  await stack.stop();
});

async function statusOf(username: string, paths: readonly string[]): Promise<number[]> {
  const browser = await stack.loginAs(username);
  const statuses: number[] = [];
  for (const path of paths) statuses.push((await browser.get(`${stack.url}${path}`, { headers: CSRF })).status);
  return statuses;
}

const CLAIM_ROUTES = ['/api/ops/x', '/api/bob/x', '/api/realm/x', '/api/money/x', '/api/jose/x'];

test('each claim condition lets in who it names and refuses the others with 403 forbidden', async () => {
  expect(await statusOf('bob', CLAIM_ROUTES)).toEqual([200, 200, 200, 403, 403]);
  expect(await statusOf('alice', CLAIM_ROUTES)).toEqual([403, 403, 403, 403, 403]);
  // The decomposed name is the configured composed one after NFC; a single-valued department is one of the list.
  expect(await statusOf('jose', CLAIM_ROUTES)).toEqual([403, 403, 403, 200, 200]);
});

test('hostile claim values fail closed: wrong shapes, multi-@ emails, look-alikes', async () => {
  // mallory: groups "ops" as a string, department as an array, email_verified "true", email bob@example.com@evil.com.
  expect(await statusOf('mallory', CLAIM_ROUTES)).toEqual([403, 403, 403, 403, 403]);
  // eve: "оps" in Cyrillic, fullwidth, upper case, a longer group; realm_access an array; a zero-width space in the email.
  expect(await statusOf('eve', CLAIM_ROUTES)).toEqual([403, 403, 403, 403, 403]);
});

test('a refusal is the JSON error shape; which condition failed goes to the log, never a claim value', async () => {
  const mallory = await stack.loginAs('mallory');
  const refused = await mallory.get(`${stack.url}/api/bob/x`, { headers: CSRF });
  expect(refused.status).toBe(403);
  expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
  const body = refused.json<ErrorBody>();
  expect(body).toEqual({ error: 'forbidden', message: expect.any(String), requestId: expect.any(String) });
  expect(refused.body).not.toMatch(/email|evil|require/);
  const logged = stack.logs.filter((line) => line.includes(body.requestId) && line.includes('"code":"forbidden"'));
  expect(logged).toHaveLength(1);
  expect(logged[0]).toContain('require.email: the claim is none of the listed values');
  expect(logged[0]).not.toContain('evil.com');
  expect(stack.echo.requests.some((request) => request.url.startsWith('/bob'))).toBe(true);
  expect(stack.echo.requests.filter((request) => request.headers['x-request-id'] === body.requestId)).toEqual([]);
});

test('a route without a session is 401 before any policy, and an empty require opens a route to any session', async () => {
  const anonymous = stack.browser();
  expect((await anonymous.get(`${stack.url}/api/ops/x`, { headers: CSRF })).status).toBe(401);
  expect((await anonymous.get(`${stack.url}/api/anonymous-ops/x`, { headers: CSRF })).status).toBe(401);
  expect(await statusOf('alice', ['/api/open/x', '/api/anonymous-ops/x'])).toEqual([200, 403]);
  // A "none" route with conditions judges the session but sends no token.
  const bob = await stack.loginAs('bob');
  const since = stack.echo.requests.length;
  expect((await bob.get(`${stack.url}/api/anonymous-ops/x`, { headers: CSRF })).status).toBe(200);
  expect(stack.echo.requests.slice(since).map((request) => request.headers.authorization)).toEqual([undefined]);
});

test('methods: the others get 405 method_not_allowed with Allow, before the CSRF header or the session is looked at', async () => {
  const browser = await stack.loginAs('alice');
  expect((await browser.get(`${stack.url}/api/read-only/x`, { headers: CSRF })).status).toBe(200);
  expect((await browser.request('HEAD', `${stack.url}/api/read-only/x`, { headers: CSRF })).status).toBe(200);
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    const refused = await browser.request(method, `${stack.url}/api/read-only/x`, { headers: CSRF, json: {}, from: `${stack.url}/` });
    expect([method, refused.status, refused.headers.get('allow'), refused.json<ErrorBody>().error]).toEqual([
      method,
      405,
      'GET, HEAD',
      'method_not_allowed',
    ]);
  }
  const anonymous = await stack.browser().request('DELETE', `${stack.url}/api/read-only/x`, { from: `${stack.url}/` });
  expect([anonymous.status, anonymous.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
});

test('scope: the route token must have been granted it, as the token response says or, when it is silent, as requested', async () => {
  expect(await statusOf('bob', ['/api/write/x', '/api/admin/x'])).toEqual([200, 403]);
  const alice = await stack.loginAs('alice');
  // A provider that leaves `scope` out of its token responses granted what was asked (RFC 6749 §5.1).
  stack.idp.onTokenResponse = (body) => {
    const { scope: _scope, ...rest } = body;
    return rest;
  };
  try {
    expect((await alice.get(`${stack.url}/api/asked-read/x`, { headers: CSRF })).status).toBe(200);
    expect((await alice.get(`${stack.url}/api/asked-write/x`, { headers: CSRF })).status).toBe(403);
  } finally {
    stack.idp.onTokenResponse = undefined;
  }
  expect(stack.logs.some((line) => line.includes('require.scope: the token was not granted todos:write'))).toBe(true);
});

test('ROUTES_DEFAULT_REQUIRE applies to every route without its own require, and a refused token is never sent', async () => {
  const strict = await stack.startInstance({ ROUTES_DEFAULT_REQUIRE: JSON.stringify({ groups: { containsAnyOf: ['ops'] } }) });
  const alice = await stack.loginAs('alice');
  const bob = await stack.loginAs('bob');
  const since = stack.echo.requests.length;
  const statuses = async (browser: typeof alice) =>
    Promise.all(
      ['/api/echo/x', '/api/public/x', '/api/open/x', '/api/bob/x'].map(
        async (path) => (await browser.get(`${strict}${path}`, { headers: CSRF })).status,
      ),
    );
  // echo and public (a "none" route) take the default; open says {}; bob's route has its own.
  expect(await statuses(alice)).toEqual([403, 403, 200, 403]);
  expect(await statuses(bob)).toEqual([200, 200, 200, 200]);
  expect((await stack.browser().get(`${strict}/api/public/x`, { headers: CSRF })).status).toBe(401);
  expect(stack.echo.requests.slice(since)).toHaveLength(5);
  // The instance without the default still lets alice in.
  expect((await alice.get(`${stack.url}/api/echo/x`, { headers: CSRF })).status).toBe(200);
});
