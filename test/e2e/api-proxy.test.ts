import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import {
  type BrowserClient,
  type BrowserRequestOptions,
  type BrowserResponse,
  DEMO_USERS,
  type EchoApi,
  freePort,
  gatewayClientBasicAuth,
  type GatewayStack,
  leakedSecrets,
  type RecordedRequest,
  startEchoApi,
  startGatewayStack,
} from '#sessiongate/testing';

// The /api proxy and logout through the real gateway, a real provider, Redis, the demo API and an echo API.

const CSRF = { 'x-csrf': '1' } as const;
const SESSION_KEYS = 'sg:{*}:s';

interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly idToken: string;
}

interface LoggedIn {
  readonly browser: BrowserClient;
  readonly tokens: IssuedTokens;
  /** The session cookie's value. */
  readonly cookie: string;
}

interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
}

let stack: GatewayStack;
let alice: LoggedIn;
/** Every token and session cookie value issued in this file: none may ever appear in a gateway log. */
const secrets: string[] = [];

/** Logs in through the gateway, capturing what the provider's token endpoint issued for this login. */
async function login(on: GatewayStack, username: string): Promise<LoggedIn> {
  let issued: Record<string, unknown> | undefined;
  on.idp.onTokenResponse = (body) => {
    issued = body;
  };
  let browser: BrowserClient;
  try {
    browser = await on.loginAs(username);
  } finally {
    on.idp.onTokenResponse = undefined;
  }
  const cookie = browser.cookies(on.url)[on.config.session.cookieName];
  if (!issued || !cookie) throw new Error(`login as ${username}: no token response or no session cookie`);
  const tokens = { accessToken: String(issued.access_token), refreshToken: String(issued.refresh_token), idToken: String(issued.id_token) };
  for (const token of Object.values(tokens)) expect(token).toMatch(/^[\w-]+(\.[\w-]+)*$/);
  secrets.push(tokens.accessToken, tokens.refreshToken, tokens.idToken, cookie);
  return { browser, tokens, cookie };
}

interface CallOptions extends BrowserRequestOptions {
  /** Default true: send `X-CSRF: 1`. */
  readonly csrf?: boolean;
  /** Default: the main stack. */
  readonly on?: GatewayStack;
}

/** A call as the SPA makes it: same origin, with `X-CSRF: 1` (unless `csrf: false`), not following redirects. */
function call(
  browser: BrowserClient,
  method: string,
  path: string,
  { csrf = true, on = stack, ...options }: CallOptions = {},
): Promise<BrowserResponse> {
  const headers = { ...(csrf ? CSRF : {}), ...options.headers };
  return browser.request(method, `${on.url}${path}`, { followRedirects: false, ...options, headers });
}

/** What the echo API received for a response the gateway gave (matched by the request id the gateway forwards). */
function received(response: BrowserResponse, echo = stack.echo): RecordedRequest {
  const requestId = response.headers.get('x-request-id');
  const match = echo.requests.find((recorded) => recorded.headers['x-request-id'] === requestId);
  if (!match) throw new Error(`the echo API received no request ${requestId} (gateway answered ${response.status} ${response.body})`);
  return match;
}

/** The one error shape: JSON with `error` and `requestId`, nothing else that could leak (no stack), never a redirect. */
function expectError(response: { status: number; headers: Headers; body: string }, status: number, code: string): ErrorBody {
  // Status and body together, so that an unexpected status shows what the gateway said.
  expect({ status: response.status, body: response.body }).toEqual({ status, body: expect.any(String) });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('location')).toBeNull();
  const body = JSON.parse(response.body) as ErrorBody;
  expect(body).toEqual({ error: code, message: expect.any(String), requestId: expect.stringMatching(/.+/) });
  expect(body.requestId).toBe(response.headers.get('x-request-id'));
  expect(response.body).not.toMatch(/\bat .*\(|\.ts:\d+|\.js:\d+|stack/);
  return body;
}

/** Runs `action` and asserts that the echo API received nothing meanwhile. */
async function withoutReachingEcho<T>(action: () => Promise<T>, echo = stack.echo): Promise<T> {
  const before = echo.requests.length;
  const result = await action();
  expect(echo.requests.slice(before)).toEqual([]);
  return result;
}

/**
 * A GET sent byte for byte as given: fetch and BrowserClient normalise dot segments and would never
 * send `/api/echo/../admin` as such.
 */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: Headers; body: string }> {
  const { hostname, port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: hostname, port, method: 'GET', path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          for (const item of Array.isArray(value) ? value : [value ?? '']) responseHeaders.append(name, item);
        }
        resolve({ status: response.statusCode!, headers: responseHeaders, body: Buffer.concat(chunks).toString() });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * Random bytes that are valid UTF-8 (every sequence length, NUL and control characters included, no
 * U+FFFD): the echo API records bodies as UTF-8 text, and for valid UTF-8 that decoding is lossless,
 * so comparing its record with what was sent is an exact byte comparison.
 */
function randomUtf8Bytes(minimumLength: number): Buffer {
  const random = randomBytes(minimumLength * 2);
  const ranges: readonly [number, number][] = [
    [0x00, 0x7f],
    [0x80, 0x7ff],
    [0x800, 0xd7ff],
    [0xe000, 0xfffc],
    [0x10000, 0x10ffff],
  ];
  const parts: string[] = [];
  let length = 0;
  for (let offset = 0; length < minimumLength; offset = (offset + 4) % (random.length - 4)) {
    const [low, high] = ranges[random[offset]! % ranges.length]!;
    const codePoint = low + (random.readUInt32BE(offset) % (high - low + 1));
    parts.push(String.fromCodePoint(codePoint));
    length += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
  }
  return Buffer.from(parts.join(''));
}

/** A refresh-token grant at the provider, as the gateway's client. */
async function refreshAtProvider(refreshToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.idp.issuer}/token`, {
    method: 'POST',
    headers: { authorization: gatewayClientBasicAuth(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

beforeAll(async () => {
  stack = await startGatewayStack();
  alice = await login(stack, 'alice');
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('without a session', () => {
  test('/api/echo answers 401 unauthenticated as JSON, not a redirect to the provider, and calls nothing', async () => {
    const response = await withoutReachingEcho(() => call(stack.browser(), 'GET', '/api/echo/x'));
    expectError(response, 401, 'unauthenticated');
  });
});

describe('the X-CSRF header', () => {
  test.each(['GET', 'POST', 'PUT', 'DELETE'])(
    '%s /api/echo without X-CSRF is refused with 403 csrf even when logged in',
    async (method) => {
      const body = method === 'GET' ? {} : { json: { title: 'forged' } };
      const response = await withoutReachingEcho(() => call(alice.browser, method, '/api/echo/x', { ...body, csrf: false }));
      expectError(response, 403, 'csrf');
    },
  );

  test.each(['GET', 'POST'])('%s on the token: none route without X-CSRF is refused with 403 csrf', async (method) => {
    const response = await withoutReachingEcho(() => call(alice.browser, method, '/api/public/x', { csrf: false }));
    expectError(response, 403, 'csrf');
  });

  test('X-CSRF with another value than 1 is refused', async () => {
    const response = await withoutReachingEcho(() => call(alice.browser, 'GET', '/api/echo/x', { headers: { 'x-csrf': 'true' } }));
    expectError(response, 403, 'csrf');
  });
});

describe('what the upstream API receives', () => {
  test("the provider's access token as Bearer; never the ID token, a cookie, X-CSRF, or the browser's credentials and forwarding claims", async () => {
    const response = await call(alice.browser, 'GET', '/api/echo/whoami', {
      headers: {
        authorization: 'Bearer browser-supplied-token',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        forwarded: 'for=6.6.6.6;host=evil.example;proto=https',
        'x-real-ip': '6.6.6.6',
      },
    });
    expect(response.status).toBe(200);
    const upstream = received(response);
    expect(upstream.headers.authorization).toBe(`Bearer ${alice.tokens.accessToken}`);
    expect(upstream.headers.cookie).toBeUndefined();
    expect(upstream.headers['x-csrf']).toBeUndefined();
    expect(upstream.headers.forwarded).toBeUndefined();
    expect(upstream.headers['x-real-ip']).toBeUndefined();
    expect(upstream.headers['x-forwarded-for']).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    expect(upstream.headers['x-forwarded-host']).toBe(new URL(stack.url).host);
    expect(upstream.headers['x-forwarded-proto']).toBe('http');
    const everything = JSON.stringify(upstream);
    for (const leaked of [
      alice.tokens.idToken,
      alice.tokens.refreshToken,
      alice.cookie,
      'browser-supplied-token',
      '6.6.6.6',
      'evil.example',
    ]) {
      expect(everything).not.toContain(leaked);
    }
  });

  test('the path maps under the target base path with the query string unchanged', async () => {
    const response = await call(alice.browser, 'GET', '/api/echo/a/b?x=1&y=2');
    expect(response.status).toBe(200);
    expect(received(response).url).toBe('/v1/a/b?x=1&y=2');
  });

  test('the route prefix alone maps to the target base path', async () => {
    const response = await call(alice.browser, 'GET', '/api/echo?q=%20a');
    expect(response.status).toBe(200);
    expect(received(response).url).toBe('/v1?q=%20a');
  });

  test.each(['POST', 'PUT', 'PATCH'])('a %s JSON body arrives byte-identical with its content type', async (method) => {
    const json = { title: 'Buy milk', nested: { list: [1, 2, 3], unicode: 'ünïcødé ✓ 🥛' }, empty: null };
    const response = await call(alice.browser, method, '/api/echo/todos', { json });
    expect(response.status).toBe(200);
    const upstream = received(response);
    expect(upstream.method).toBe(method);
    expect(upstream.body).toBe(JSON.stringify(json));
    expect(upstream.headers['content-type']).toBe('application/json');
  });

  test('a 2 MB binary body arrives byte-identical', async () => {
    const bytes = randomUtf8Bytes(2 * 1024 * 1024);
    const cookies = Object.entries(alice.browser.cookies(stack.url))
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const response = await fetch(`${stack.url}/api/echo/upload`, {
      method: 'POST',
      headers: { ...CSRF, cookie: cookies, origin: stack.url, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(response.status).toBe(200);
    const upstream = stack.echo.requests.find((recorded) => recorded.headers['x-request-id'] === response.headers.get('x-request-id'));
    await response.arrayBuffer();
    expect(upstream).toBeDefined();
    expect(upstream!.headers['content-type']).toBe('application/octet-stream');
    const arrived = Buffer.from(upstream!.body, 'utf8');
    expect(arrived.length).toBe(bytes.length);
    expect(arrived.equals(bytes)).toBe(true);
  });

  test("the browser's own headers pass on", async () => {
    const response = await call(alice.browser, 'GET', '/api/echo/x', {
      headers: { 'x-trace-me': '42', accept: 'application/json', 'accept-language': 'de' },
    });
    const upstream = received(response);
    expect(upstream.headers).toMatchObject({ 'x-trace-me': '42', accept: 'application/json', 'accept-language': 'de' });
  });
});

describe('what the browser gets back', () => {
  test.each([201, 404, 418, 500, 503])('upstream status %i passes through', async (status) => {
    const response = await call(alice.browser, 'GET', `/api/echo/status/${status}`);
    expect(response.status).toBe(status);
    expect(received(response).url).toBe(`/v1/status/${status}`);
  });

  test("the upstream's custom headers pass through, its Set-Cookie does not", async () => {
    const response = await call(alice.browser, 'GET', '/api/echo/status/418');
    expect(response.status).toBe(418);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(alice.browser.cookies(stack.url)).not.toHaveProperty('echo');
  });
});

describe('paths', () => {
  test.each([
    '/api/echo/../admin',
    '/api/echo/%2e%2e/admin',
    '/api/echo/%2fadmin',
    '/api/echo/%252e%252e/admin',
    '/api/echo/.%2e/admin',
    '/api/echo/a/..',
  ])('%s is refused with 400 bad_path and never reaches the API', async (path) => {
    const response = await withoutReachingEcho(() =>
      rawGet(path, { ...CSRF, cookie: `${stack.config.session.cookieName}=${alice.cookie}` }),
    );
    expectError(response, 400, 'bad_path');
  });

  test('an unknown /api path answers 404 no_route', async () => {
    const response = await withoutReachingEcho(() => call(alice.browser, 'GET', '/api/nothing'));
    expectError(response, 404, 'no_route');
  });

  test('a prefix matches on a segment boundary only', async () => {
    const response = await withoutReachingEcho(() => call(alice.browser, 'GET', '/api/echoes/x'));
    expectError(response, 404, 'no_route');
  });
});

describe('routes', () => {
  test('/api/todos/todos reaches the demo API, which accepts the access token (audience and scope)', async () => {
    const response = await call(alice.browser, 'GET', '/api/todos/todos');
    expect(response.status).toBe(200);
    const alicesSub = DEMO_USERS.find((user) => user.username === 'alice')!.sub;
    expect(response.json()).toMatchObject({ sub: alicesSub, todos: expect.any(Array) });
    expect(jwtPayload(alice.tokens.accessToken)).toMatchObject({ sub: alicesSub });
  });

  test('the token: none route sends no Authorization header, with or without a session', async () => {
    const loggedIn = await call(alice.browser, 'GET', '/api/public/x', { headers: { authorization: 'Bearer browser-supplied-token' } });
    expect(loggedIn.status).toBe(200);
    expect(received(loggedIn).url).toBe('/x');
    expect(received(loggedIn).headers.authorization).toBeUndefined();
    expect(received(loggedIn).headers.cookie).toBeUndefined();

    const anonymous = await call(stack.browser(), 'GET', '/api/public/x');
    expect(anonymous.status).toBe(200);
    expect(received(anonymous).headers.authorization).toBeUndefined();
  });
});

describe('failing upstreams', () => {
  let failing: GatewayStack;
  let slowEcho: EchoApi;
  let bob: LoggedIn;
  /** When the echo API's slow handler will be done, so that it can be stopped cleanly. */
  let slowHandlerDoneAt = 0;

  beforeAll(async () => {
    slowEcho = await startEchoApi();
    const nothingListening = await freePort();
    failing = await startGatewayStack({
      env: {
        UPSTREAM_TIMEOUT_MS: '300',
        API_ROUTES: JSON.stringify([
          { prefix: '/api/echo', target: `${slowEcho.url}/v1`, token: 'user' },
          { prefix: '/api/down', target: `http://127.0.0.1:${nothingListening}`, token: 'none' },
        ]),
      },
    });
    bob = await login(failing, 'bob');
  }, 60_000);

  afterAll(async () => {
    await failing?.stop();
    // The slow handler keeps waiting after the gateway gave up; let its timer run out before stopping.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, slowHandlerDoneAt - Date.now())));
    await slowEcho?.stop();
  });

  test('an unreachable upstream answers 502 upstream_unavailable', async () => {
    const response = await call(failing.browser(), 'GET', '/api/down/x', { on: failing });
    expectError(response, 502, 'upstream_unavailable');
  });

  test('an upstream slower than UPSTREAM_TIMEOUT_MS answers 504 upstream_timeout without waiting for it', async () => {
    const started = Date.now();
    slowHandlerDoneAt = started + 2100;
    const response = await call(bob.browser, 'GET', '/api/echo/slow?ms=2000', { on: failing });
    expectError(response, 504, 'upstream_timeout');
    // undici's headers timer ticks coarsely (about 0.5 s), so only "before the upstream answered" is exact.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(received(response, slowEcho).url).toBe('/v1/slow?ms=2000');
  });

  test('neither gateway logged a token or a session cookie', () => {
    expectNothingSecretIn(failing.logs);
  });
});

describe('logout', () => {
  let bob: LoggedIn;

  beforeAll(async () => {
    bob = await login(stack, 'bob');
  });

  async function sessionKeys(): Promise<string[]> {
    return (await stack.redis.client.keys(SESSION_KEYS)).sort();
  }

  test("the refresh-token probe used below accepts a live refresh token (another login's)", async () => {
    const other = await login(stack, 'alice');
    const probe = await refreshAtProvider(other.tokens.refreshToken);
    expect(probe.status).toBe(200);
    expect(probe.body.access_token).toEqual(expect.any(String));
  });

  test('/bff/logout with a missing or wrong sid is refused with 400 invalid_logout_request and the session goes on', async () => {
    const keysBefore = await sessionKeys();
    for (const query of ['', '?sid=', '?sid=not-the-sid', '?other=1']) {
      const response = await call(bob.browser, 'GET', `/bff/logout${query}`);
      expectError(response, 400, 'invalid_logout_request');
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    const { logoutUrl } = (await call(bob.browser, 'GET', '/bff/user')).json<{ logoutUrl: string }>();
    const doubled = await call(bob.browser, 'GET', `${logoutUrl}&${new URL(logoutUrl, stack.url).search.slice(1)}`);
    expectError(doubled, 400, 'invalid_logout_request');

    expect(await sessionKeys()).toEqual(keysBefore);
    expect((await call(bob.browser, 'GET', '/bff/user')).status).toBe(200);
    expect((await call(bob.browser, 'GET', '/api/echo/still-here')).status).toBe(200);
  });

  test("with the session's sid: ends the session, revokes the refresh token and hands over to the provider's end_session endpoint", async () => {
    const user = await call(bob.browser, 'GET', '/bff/user');
    expect(user.status).toBe(200);
    const { logoutUrl } = user.json<{ logoutUrl: string }>();
    expect(logoutUrl).toMatch(/^\/bff\/logout\?sid=[^&]+$/);
    const keysBefore = await sessionKeys();

    const response = await call(bob.browser, 'GET', logoutUrl);

    expect(response.status).toBe(302);
    const discovery = (await (await fetch(`${stack.idp.issuer}/.well-known/openid-configuration`)).json()) as {
      end_session_endpoint: string;
    };
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(discovery.end_session_endpoint);
    expect(location.searchParams.get('id_token_hint')).toBe(bob.tokens.idToken);
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.url}/`);

    const cookieName = stack.config.session.cookieName;
    expect(response.headers.getSetCookie().filter((cookie) => cookie.startsWith(`${cookieName}=`))).toEqual([
      expect.stringMatching(new RegExp(`^${cookieName}=;.*Max-Age=0`)),
    ]);
    expect(bob.browser.cookies(stack.url)).not.toHaveProperty(cookieName);

    // Exactly bob's session is gone from Redis (other tests' sessions live in the same Redis).
    const keysAfter = await sessionKeys();
    expect(keysAfter).toHaveLength(keysBefore.length - 1);
    expect(keysAfter.every((key) => keysBefore.includes(key))).toBe(true);

    expectError(await call(bob.browser, 'GET', '/bff/user'), 401, 'unauthenticated');
    // Even replaying the old cookie: the session is gone server-side, not just forgotten by the browser.
    const replayed = await rawGet('/bff/user', { ...CSRF, cookie: `${cookieName}=${bob.cookie}` });
    expectError(replayed, 401, 'unauthenticated');
    const replayedApi = await withoutReachingEcho(() => rawGet('/api/echo/x', { ...CSRF, cookie: `${cookieName}=${bob.cookie}` }));
    expectError(replayedApi, 401, 'unauthenticated');

    const probe = await refreshAtProvider(bob.tokens.refreshToken);
    expect(probe).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });
  });

  test('the other sessions are untouched by that logout', async () => {
    expect((await call(alice.browser, 'GET', '/bff/user')).status).toBe(200);
  });
});

function expectNothingSecretIn(logs: readonly string[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  expect(leakedSecrets(logs, secrets)).toEqual([]);
}

test('the gateway never logged an access, refresh or ID token or a session cookie value', () => {
  expect(stack.logs.length).toBeGreaterThan(0);
  expectNothingSecretIn(stack.logs);
});
