import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { importJWK, type JWTPayload, SignJWT } from 'jose';
import { type GatewayStack, gatewayClientBasicAuth, leakedSecrets, startGatewayStack, TODOS_RESOURCE } from '#sessiongate/testing';

// Callers without a session on `bearer` routes (issue 12): JWT access tokens from the real oidc-provider (and
// forged ones, signed with its key or not), verified by the gateway against the provider's JWKS.

const CSRF = { 'x-csrf': '1' };

interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
}

let stack: GatewayStack;
/** Every token presented in this file, valid or not: none may appear in the gateway's log. */
const presented: string[] = [];

beforeAll(async () => {
  stack = await startGatewayStack({
    routes: ({ echo }) => [
      { prefix: '/api/machine', target: `${echo}/machine`, bearer: { audience: TODOS_RESOURCE, scopes: ['todos:read'] } },
      {
        prefix: '/api/machine-ops',
        target: `${echo}/machine-ops`,
        bearer: { audience: TODOS_RESOURCE },
        require: { groups: { containsAnyOf: ['ops'] } },
      },
      {
        prefix: '/api/machine-write',
        target: `${echo}/machine-write`,
        bearer: { audience: TODOS_RESOURCE },
        require: { scope: ['todos:write'] },
      },
      { prefix: '/api/echo-todos', target: `${echo}/echo-todos`, resource: TODOS_RESOURCE },
    ],
  });
});

afterAll(async () => {
  await stack.stop();
});

/** A client-credentials JWT access token from the provider, for the gateway's own client. */
async function clientToken(resource: string, scope: string): Promise<string> {
  const response = await fetch(`${stack.idp.issuer}/token`, {
    method: 'POST',
    headers: { authorization: gatewayClientBasicAuth(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`client token: ${response.status}`);
  return body.access_token;
}

/** The JWT access token the provider issued `username` for the todos API, as the gateway sent it upstream. */
async function userToken(username: string): Promise<string> {
  const browser = await stack.loginAs(username);
  const since = stack.echo.requests.length;
  expect((await browser.get(`${stack.url}/api/echo-todos/x`, { headers: CSRF })).status).toBe(200);
  const authorization = stack.echo.requests[since]?.headers.authorization;
  if (typeof authorization !== 'string') throw new Error('no token reached the echo API');
  return authorization.slice('Bearer '.length);
}

/** A token signed with the provider's own key: only its claims differ from what the provider would issue. */
async function forged(claims: JWTPayload): Promise<string> {
  return new SignJWT({ iss: stack.idp.issuer, aud: TODOS_RESOURCE, sub: 'u-1002', scope: 'todos:read', ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: stack.idp.signingKey.kid })
    .setIssuedAt()
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : '1m')
    .sign(await importJWK(stack.idp.signingKey, 'RS256'));
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const payload = () => ({
  iss: stack.idp.issuer,
  aud: TODOS_RESOURCE,
  sub: 'u-1002',
  scope: 'todos:read',
  exp: Math.floor(Date.now() / 1000) + 60,
});

function call(path: string, token: string, headers: Record<string, string> = {}) {
  presented.push(token);
  return fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
}

test('a valid token for the audience passes without X-CSRF or a session, and is forwarded as it came', async () => {
  const token = await clientToken(TODOS_RESOURCE, 'todos:read');
  const since = stack.echo.requests.length;
  const response = await call('/api/machine/items?x=1', token);
  expect(response.status).toBe(200);
  const forwarded = stack.echo.requests.slice(since);
  expect(forwarded.map((request) => [request.url, request.headers.authorization])).toEqual([['/machine/items?x=1', `Bearer ${token}`]]);
  expect(stack.logs.some((line) => line.includes(token))).toBe(false);
});

test('no token and no session on a bearer route: 401 unauthenticated with a Bearer challenge', async () => {
  // Without a bearer token the request takes the session path, X-CSRF first, as on any route.
  expect((await fetch(`${stack.url}/api/machine/x`)).status).toBe(403);
  const response = await fetch(`${stack.url}/api/machine/x`, { headers: CSRF });
  expect(response.status).toBe(401);
  expect(((await response.json()) as ErrorBody).error).toBe('unauthenticated');
  expect(response.headers.get('www-authenticate')).toBe('Bearer');
});

test("the upstream's 401 to a bearer caller's token is passed on, without a retry", async () => {
  const token = await clientToken(TODOS_RESOURCE, 'todos:read');
  const since = stack.echo.requests.length;
  expect((await call('/api/machine/status/401', token)).status).toBe(401);
  expect(stack.echo.requests.slice(since).map((request) => request.headers.authorization)).toEqual([`Bearer ${token}`]);
});

test('the route require is judged on the token claims, its scope on the token scopes', async () => {
  const bob = await userToken('bob');
  const alice = await userToken('alice');
  expect((await call('/api/machine-ops/x', bob)).status).toBe(200);
  const refused = await call('/api/machine-ops/x', alice);
  expect([refused.status, ((await refused.json()) as ErrorBody).error]).toEqual([403, 'forbidden']);
  // Forged claims of the wrong shape fail closed, as on sessions.
  expect((await call('/api/machine-ops/x', await forged({ groups: 'ops' }))).status).toBe(403);
  expect((await call('/api/machine-ops/x', await forged({ groups: ['\u043eps'] }))).status).toBe(403);
  expect((await call('/api/machine-write/x', await forged({ scope: 'todos:read todos:write' }))).status).toBe(200);
  expect((await call('/api/machine-write/x', await forged({ scp: ['todos:write'] }))).status).toBe(200);
  expect((await call('/api/machine-write/x', await forged({ scope: 'todos:read todos:writer' }))).status).toBe(403);
});

test.each([
  ['wrong audience', () => stack.adminToken(), 'unexpected \\"aud\\" claim value'],
  ['expired', () => forged({ exp: Math.floor(Date.now() / 1000) - 120 }), 'JWTExpired'],
  ['not yet valid', () => forged({ nbf: Math.floor(Date.now() / 1000) + 120 }), '\\"nbf\\" claim timestamp check failed'],
  ['another issuer', () => forged({ iss: 'http://127.0.0.1:1' }), 'unexpected \\"iss\\" claim value'],
  ['alg none', async () => `${base64url({ alg: 'none', typ: 'at+jwt' })}.${base64url(payload())}.`, 'JOSEAlgNotAllowed'],
  [
    'HS256 signed with the public key',
    async () => {
      const pem = createPublicKey({ key: stack.idp.jwks.keys[0] as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      const input = `${base64url({ alg: 'HS256', typ: 'at+jwt', kid: stack.idp.signingKey.kid })}.${base64url(payload())}`;
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    },
    'JOSEAlgNotAllowed',
  ],
  ['a bad signature', async () => `${(await forged({})).slice(0, -4)}AAAA`, 'JWSSignatureVerificationFailed'],
  ['not a JWT', async () => 'opaque-token', 'JWSInvalid'],
])('%s: 401 invalid_token with a Bearer challenge, and nothing forwarded', async (_, token, logged) => {
  const since = stack.echo.requests.length;
  const response = await call('/api/machine/x', await token());
  expect(response.status).toBe(401);
  const body = (await response.json()) as ErrorBody;
  expect(body.error).toBe('invalid_token');
  expect(stack.logs.filter((line) => line.includes(body.requestId) && line.includes('bearer token refused'))).toEqual([
    expect.stringContaining(logged),
  ]);
  expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  expect(stack.echo.requests.slice(since)).toEqual([]);
});

test('a valid token without the route bearer scopes: 403 insufficient_scope', async () => {
  const response = await call('/api/machine/x', await clientToken(TODOS_RESOURCE, 'todos:write'));
  expect(response.status).toBe(403);
  expect(((await response.json()) as ErrorBody).error).toBe('insufficient_scope');
  expect(response.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="todos:read"');
});

test('a session cookie and a bearer token together: 400 ambiguous_credentials', async () => {
  const browser = await stack.loginAs('bob');
  const token = await clientToken(TODOS_RESOURCE, 'todos:read');
  presented.push(token);
  const both = await browser.get(`${stack.url}/api/machine/x`, { headers: { ...CSRF, authorization: `Bearer ${token}` } });
  expect([both.status, both.json<ErrorBody>().error]).toEqual([400, 'ambiguous_credentials']);
  // The cookie alone is a session caller, with the CSRF header as ever.
  expect((await browser.get(`${stack.url}/api/machine/x`, { headers: CSRF })).status).toBe(200);
  expect((await browser.get(`${stack.url}/api/machine/x`)).status).toBe(403);
});

test('a route without bearer ignores an Authorization header and never forwards it', async () => {
  const token = await clientToken(TODOS_RESOURCE, 'todos:read');
  expect((await call('/api/echo/x', token, CSRF)).status).toBe(401);
  const browser = await stack.loginAs('alice');
  const since = stack.echo.requests.length;
  expect((await browser.get(`${stack.url}/api/echo/x`, { headers: { ...CSRF, authorization: `Bearer ${token}` } })).status).toBe(200);
  expect(stack.echo.requests.slice(since).map((request) => request.headers.authorization)).not.toContain(`Bearer ${token}`);
});

test('no token presented, accepted or refused, reaches the log', () => {
  expect(presented.length).toBeGreaterThan(10);
  expect(leakedSecrets(stack.logs, presented)).toEqual([]);
});
