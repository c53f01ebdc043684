import {
  type BrowserClient,
  freePort,
  GATEWAY_CLIENT_SECRET,
  gatewayClientBasicAuth,
  type GatewayStack,
  leakedSecrets,
  signLogoutToken,
  startGatewayStack,
} from '#sessiongate/testing';

// Every log line of a full run (debug level, every instance): login, API calls with user and client
// tokens, a refresh, an upstream that is down, a token endpoint error echoing a token, logout, admin
// revocation, back-channel logout. Every secret value seen on the way is collected, then searched for.

const CSRF = { 'x-csrf': '1' } as const;

interface Login {
  readonly browser: BrowserClient;
  readonly cookie: string;
  /** The token response of this login. */
  readonly issued: Record<string, unknown>;
  readonly sub: string;
  readonly sid: string;
}

let stack: GatewayStack;
/** An instance that refreshes on every call (a refresh skew longer than any token's life). */
let refreshing: string;
const secrets: string[] = [GATEWAY_CLIENT_SECRET, gatewayClientBasicAuth()];
const tokenResponses: Record<string, unknown>[] = [];

function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/** A login step by step, keeping the pre-login cookie, `state`, `nonce`, the code and the session cookie. */
async function login(username: string): Promise<Login> {
  const browser = stack.browser();
  const start = await browser.get(`${stack.url}/bff/login?returnTo=%2F`, { from: stack.url, followRedirects: false });
  expect(start.status).toBe(302);
  secrets.push(browser.cookies(stack.url)[stack.config.session.loginCookieName]!);
  const authorization = new URL(start.headers.get('location')!);
  // With PAR the browser carries only request_uri; state and nonce come back below.
  for (const name of ['state', 'nonce', 'request_uri']) {
    const value = authorization.searchParams.get(name);
    if (value) secrets.push(value);
  }
  const form = await browser.get(authorization.href);
  const landing = await browser.submitForm(form.body, '#login-form', { username, password: username });
  const callback = landing.redirects.map((hop) => new URL(hop.location, hop.url)).find((url) => url.pathname === '/bff/callback')!;
  secrets.push(callback.searchParams.get('code')!, callback.searchParams.get('state')!);
  const cookie = browser.cookies(stack.url)[stack.config.session.cookieName]!;
  secrets.push(cookie);
  const issued = tokenResponses.at(-1)!;
  const { claims } = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).json<{ claims: { sub: string; sid: string } }>();
  return { browser, cookie, issued, sub: claims.sub, sid: claims.sid };
}

function callOn(base: string, session: Login, path: string): Promise<Response> {
  return fetch(`${base}${path}`, { headers: { ...CSRF, cookie: `${stack.config.session.cookieName}=${session.cookie}` } });
}

let alice: Login;
let bob: Login;
let carol: Login;
let dave: Login;

beforeAll(async () => {
  const nothingListening = await freePort();
  stack = await startGatewayStack({
    routes: ({ echo }) => [
      { prefix: '/api/client', target: echo, token: 'client' },
      { prefix: '/api/down', target: `http://127.0.0.1:${nothingListening}`, token: 'user' },
    ],
  });
  stack.idp.onTokenResponse = (body) => {
    tokenResponses.push(body);
    for (const name of ['access_token', 'refresh_token', 'id_token']) if (typeof body[name] === 'string') secrets.push(body[name]);
    if (typeof body.id_token === 'string') secrets.push(String(jwtPayload(body.id_token).nonce));
  };
  refreshing = await stack.startInstance({ TOKEN_REFRESH_SKEW: '86400' });
});
afterAll(async () => {
  await stack.stop();
});

test('logs in with code, state and nonce', async () => {
  [alice, bob, carol, dave] = [await login('alice'), await login('bob'), await login('alice'), await login('bob')];
  expect(new Set([alice.cookie, bob.cookie, carol.cookie, dave.cookie]).size).toBe(4);
});

test('calls APIs with the user token and a client-credentials token, and one that is down', async () => {
  expect((await callOn(stack.url, alice, '/api/echo/x')).status).toBe(200);
  expect((await callOn(stack.url, alice, '/api/client/x')).status).toBe(200);
  expect((await callOn(stack.url, alice, '/api/down/x')).status).toBe(502);
  const bearers = stack.echo.requests.map((request) => request.headers.authorization as string);
  expect(bearers).toHaveLength(2);
  secrets.push(...bearers);
});

test('refreshes the access token', async () => {
  const before = tokenResponses.length;
  expect((await callOn(refreshing, alice, '/api/echo/refreshed')).status).toBe(200);
  expect(tokenResponses.length).toBe(before + 1);
});

test('a token endpoint error whose body carries a token ends the session', async () => {
  const refreshToken = String(bob.issued.refresh_token);
  stack.idp.tokenEndpointFault = {
    kind: 'status',
    status: 400,
    error: 'invalid_grant',
    description: `refresh token ${refreshToken} is expired`,
    grantType: 'refresh_token',
  };
  try {
    expect((await callOn(refreshing, bob, '/api/echo/x')).status).toBe(401);
  } finally {
    stack.idp.tokenEndpointFault = undefined;
  }
  // The failure is logged, with what the provider said, without the token.
  expect(stack.logs.filter((line) => line.includes('invalid_grant') && line.includes('is expired'))).not.toEqual([]);
});

test('logs out', async () => {
  const { logoutUrl } = (await alice.browser.get(`${stack.url}/bff/user`, { headers: CSRF })).json<{ logoutUrl: string }>();
  const response = await alice.browser.get(`${stack.url}${logoutUrl}`, { followRedirects: false });
  expect(response.status).toBe(302);
  expect((await callOn(stack.url, alice, '/bff/user')).status).toBe(401);
});

test('an admin revokes a user with a bearer token', async () => {
  const adminToken = await stack.adminToken();
  secrets.push(adminToken);
  const response = await fetch(`${stack.gateway.adminUrl}/admin/users/${encodeURIComponent(carol.sub)}/sessions`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${adminToken}` },
  });
  expect(response.status).toBe(200);
  expect((await callOn(stack.url, carol, '/bff/user')).status).toBe(401);
});

test('the provider logs a session out on the back channel', async () => {
  const logoutToken = await signLogoutToken(stack.idp, { sid: dave.sid });
  secrets.push(logoutToken);
  const response = await fetch(`${stack.url}/bff/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: logoutToken }).toString(),
  });
  expect(response.status).toBe(200);
  expect((await callOn(stack.url, dave, '/bff/user')).status).toBe(401);
});

test('no log line holds a token, code, state, nonce, cookie, client secret or Authorization value', () => {
  expect(stack.logs.length).toBeGreaterThan(50);
  expect(secrets.every((secret) => typeof secret === 'string' && secret.length >= 16)).toBe(true);
  expect(leakedSecrets(stack.logs, secrets)).toEqual([]);
});
