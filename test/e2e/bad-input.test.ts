import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { type BrowserClient, type BrowserResponse, type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// Malformed input thrown at every endpoint, byte for byte over a raw socket (fetch and node:http
// would normalise or refuse much of it). Every case must be refused with a 4xx in the one error
// shape (or, for /bff/login, the documented redirect), leak nothing, leave the process serving,
// and leave every other session exactly as it was in Redis.

const CSRF = { 'x-csrf': '1' } as const;
const STACK_TRACE = /\n\s+at |\.ts:\d+|\.js:\d+|node_modules/;

interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** Everything the gateway sent, head included. */
  readonly raw: string;
}

interface LoggedIn {
  readonly browser: BrowserClient;
  /** The session cookie's value. */
  readonly cookie: string;
  /** The session's public id (the `sid` of its logoutUrl). */
  readonly publicId: string;
  /** Its record's Redis key: `sg:{<sha256 of the cookie>}:s`. */
  readonly key: string;
}

/** What a case must get back. */
type Expected =
  /** The gateway's own error: this status (or one of these) and, when given, this code. */
  | { readonly status: number | readonly number[]; readonly error?: string }
  /** Refused by the HTTP parser before the gateway sees it (no request id exists yet): any of these 4xx. */
  | { readonly parser: readonly number[] }
  /** /bff/login: a redirect to the provider's authorization endpoint. */
  | { readonly loginRedirect: true }
  /**
   * The client sent less than it declared and hung up: no one is left to answer (status 0: the
   * connection closed without a response), or the gateway's own error.
   */
  | { readonly abandoned: { readonly status: number; readonly error?: string } }
  /** Garbage that is still valid input (an opaque `sub` nobody has): this answer, and nothing touched. */
  | { readonly ok: unknown };

interface Case {
  readonly name: string;
  readonly request: () => Promise<RawResponse>;
  readonly expected: Expected;
}

let stack: GatewayStack;
let alice: LoggedIn;
let bob: LoggedIn;
let adminToken: string;
/** Tokens and session cookie values issued in this file: none may ever appear in a response. */
const secrets: string[] = [];

function cookieName(): string {
  return stack.config.session.cookieName;
}

function recordKey(sessionId: string): string {
  return `sg:{${createHash('sha256').update(sessionId).digest('base64url')}}:s`;
}

async function login(username: string): Promise<LoggedIn> {
  stack.idp.onTokenResponse = (body) => {
    for (const name of ['access_token', 'refresh_token', 'id_token']) if (typeof body[name] === 'string') secrets.push(body[name]);
  };
  let browser: BrowserClient;
  try {
    browser = await stack.loginAs(username);
  } finally {
    stack.idp.onTokenResponse = undefined;
  }
  const cookie = browser.cookies(stack.url)[cookieName()]!;
  secrets.push(cookie);
  const user = await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url });
  const publicId = new URL(user.json<{ logoutUrl: string }>().logoutUrl, stack.url).searchParams.get('sid')!;
  return { browser, cookie, publicId, key: recordKey(cookie) };
}

/**
 * Sends `method path` with exactly these header lines (Host and `Connection: close` added) and
 * body, and reads the response to the end of the connection. A connection closed without a
 * response resolves with status 0, which only an `abandoned` case accepts.
 */
function raw(
  method: string,
  path: string,
  headers: readonly (readonly [string, string])[] = [],
  body?: string | Buffer,
  { halfClose = false }: { readonly halfClose?: boolean } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(stack.url);
  const head = [
    `${method} ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Connection: close',
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ];
  if (body !== undefined && !headers.some(([name]) => name.toLowerCase() === 'content-length'))
    head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  const bytes = Buffer.concat([
    Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'),
    body === undefined ? Buffer.alloc(0) : Buffer.from(body),
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no response within 10 s to ${method} ${path.slice(0, 80)}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error),
    );
    socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks))));
    // Node's HTTP server aborts a request whose client half-closes (httpAllowHalfOpen is false), so the
    // connection stays open until the gateway, told `Connection: close`, closes it after its response.
    if (halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

function parseResponse(bytes: Buffer): RawResponse {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: new Headers(), body: '', raw: text };
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body = bytes.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const parts: Buffer[] = [];
    for (let offset = 0; ; ) {
      const lineEnd = body.indexOf('\r\n', offset);
      const size = parseInt(body.subarray(offset, lineEnd).toString(), 16);
      if (!(size > 0)) break;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      offset = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: body.toString('utf8'), raw: text };
}

const withCookie = (value: string): [string, string] => ['Cookie', value];
const bearer = (): [string, string] => ['Authorization', `Bearer ${adminToken}`];
const csrf: [string, string] = ['X-CSRF', '1'];
const form: [string, string] = ['Content-Type', 'application/x-www-form-urlencoded'];

/** The one assertion every case ends with (except the process and Redis checks, done per case too). */
function expectSafeRefusal(response: RawResponse, expected: Expected): void {
  const summary = { status: response.status, body: response.body.slice(0, 300), location: response.headers.get('location') };
  if ('abandoned' in expected) {
    if (response.status === 0) {
      expect(response.raw).toBe('');
      return;
    }
    const refusedByParser = response.headers.get('x-request-id') === null;
    return expectSafeRefusal(response, refusedByParser ? { parser: [expected.abandoned.status] } : expected.abandoned);
  }
  if ('ok' in expected) {
    expect({ status: response.status, body: JSON.parse(response.body) as unknown }).toEqual({ status: 200, body: expected.ok });
    expect(response.raw).not.toMatch(STACK_TRACE);
    for (const secret of secrets) expect(response.raw).not.toContain(secret);
    return;
  }
  if ('loginRedirect' in expected) {
    expect(summary).toEqual({ status: 302, body: expect.any(String), location: expect.stringMatching(`^${stack.idp.issuer}/`) });
  } else if ('parser' in expected) {
    expect(expected.parser).toContain(response.status);
    if (response.body !== '') expect(() => JSON.parse(response.body) as unknown).not.toThrow();
  } else {
    const statuses = typeof expected.status === 'number' ? [expected.status] : expected.status;
    expect(statuses).toContain(summary.status);
    expect(summary.location).toBeNull();
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body).toEqual({
      error: expected.error ?? expect.any(String),
      message: expect.any(String),
      requestId: expect.stringMatching(/.+/),
    });
    // Errors Fastify raises before routing (frameworkErrors) come before the hook that sets the header.
    if (response.headers.has('x-request-id')) expect(body.requestId).toBe(response.headers.get('x-request-id'));
  }
  expect(response.status).toBeGreaterThanOrEqual(300);
  expect(response.status).toBeLessThan(500);
  expect(response.raw).not.toMatch(STACK_TRACE);
  for (const secret of secrets) expect(response.raw).not.toContain(secret);
}

/** Session records and index keys (pending logins and used logout-token ids may legitimately come and go). */
async function sessionState(): Promise<Record<string, unknown>> {
  const redis = stack.redis.client;
  const keys = (await redis.keys('sg:*'))
    .filter((key) => !key.startsWith('sg:login:') && !key.startsWith('sg:jti:') && key !== 'sg:audit' && !key.endsWith(':lock'))
    .sort();
  const records: Record<string, unknown> = { keys };
  for (const key of keys.filter((name) => /^sg:\{.*\}:s$/.test(name))) {
    const [recordVersion, ciphertext] = await redis.hmget(key, 'v', 'd');
    records[key] = { version: recordVersion, ciphertext };
  }
  return records;
}

async function expectStillServing(): Promise<void> {
  for (const user of [alice, bob]) {
    const response = await user.browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url });
    expect({ status: response.status, body: response.body.slice(0, 200) }).toEqual({ status: 200, body: expect.any(String) });
  }
}

/** Logs in a browser that already holds the pre-login cookie of `started`, and returns the gateway's final redirect. */
async function completeLogin(started: RawResponse): Promise<BrowserResponse> {
  const browser = stack.browser();
  for (const setCookie of started.headers.getSetCookie()) browser.setCookie(stack.url, setCookie);
  const form = await browser.get(started.headers.get('location')!, { from: stack.url });
  return browser.submitForm(form.body, '#login-form', { username: 'alice', password: 'alice' });
}

beforeAll(async () => {
  stack = await startGatewayStack();
  alice = await login('alice');
  bob = await login('bob');
  adminToken = await stack.adminToken();
  secrets.push(adminToken);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe('malformed input at every endpoint', () => {
  const long = (length: number, unit = 'a') => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
  const forgedId = () => 'A'.repeat(43);
  const tampered = () => `${alice.cookie.slice(0, 20)}${alice.cookie[20] === 'x' ? 'y' : 'x'}${alice.cookie.slice(21)}`;
  const user = (cookie: string) => raw('GET', '/bff/user', [csrf, withCookie(cookie)]);
  const unauthenticated = { status: 401, error: 'unauthenticated' } as const;
  const invalidLogout = { status: 400, error: 'invalid_logout_request' } as const;
  const invalidLogoutToken = { status: 400, error: 'invalid_logout_token' } as const;
  const adminInvalid = { status: 400, error: 'invalid_request' } as const;

  const cases: Case[] = [
    // Cookies
    { name: 'cookie: garbage header', request: () => user(';;; =; ==x; \t;sessiongate;=;a=b=c'), expected: unauthenticated },
    { name: 'cookie: 10 KB value', request: () => user(`${cookieName()}=${long(10_240)}`), expected: unauthenticated },
    {
      name: 'cookie: truncated session id',
      request: () => user(`${cookieName()}=${alice.cookie.slice(0, 30)}`),
      expected: unauthenticated,
    },
    {
      name: 'cookie: forged well-formed id (43 base64url chars)',
      request: () => user(`${cookieName()}=${forgedId()}`),
      expected: unauthenticated,
    },
    {
      name: "cookie: alice's id with a tampered character",
      request: () => user(`${cookieName()}=${tampered()}`),
      expected: unauthenticated,
    },
    {
      name: 'cookie: garbage session cookie before the real one',
      request: () => user(`${cookieName()}=${forgedId()}; ${cookieName()}=${alice.cookie}`),
      expected: unauthenticated,
    },
    {
      name: 'cookie: two forged session cookies',
      request: () => user(`${cookieName()}=${forgedId()}; ${cookieName()}=${'B'.repeat(43)}`),
      expected: unauthenticated,
    },
    {
      name: 'cookie: control characters',
      request: () => user(`${cookieName()}=\u0001\u0002${forgedId()}\u007f`),
      expected: { parser: [400] },
    },
    {
      name: 'cookie: non-ASCII bytes',
      request: () => user(`${cookieName()}=\u00e9\u00ff${forgedId().slice(2)}`),
      expected: unauthenticated,
    },
    {
      name: 'cookie: garbage on /api',
      request: () => raw('GET', '/api/echo/x', [csrf, withCookie(`${cookieName()}=%%%; x`)]),
      expected: unauthenticated,
    },
    {
      name: 'cookie: forged id on /bff/sessions',
      request: () => raw('GET', '/bff/sessions', [csrf, withCookie(`${cookieName()}=${forgedId()}`)]),
      expected: unauthenticated,
    },

    // /bff/login: always off to the provider; where the stored returnTo leads is checked below
    ...[
      ['unicode', '/caf%C3%A9/%F0%9F%98%80'],
      ['control characters', '/%09/evil.example%0d%0a'],
      ['%00', '/%00/evil.example'],
      ['very long', `/${long(8_000)}`],
      ['non-UTF-8 percent-encoding', '/%ff%fe'],
    ].map(
      ([what, returnTo]): Case => ({
        name: `/bff/login: returnTo ${what}`,
        request: () => raw('GET', `/bff/login?returnTo=${returnTo}`),
        expected: { loginRedirect: true },
      }),
    ),
    {
      name: '/bff/login: duplicate returnTo',
      request: () => raw('GET', '/bff/login?returnTo=/a&returnTo=//evil.example'),
      expected: { loginRedirect: true },
    },

    // /bff/callback
    ...[
      ['missing state', '?code=abc'],
      ['missing code', '?state=abc'],
      ['no parameters', ''],
      ['duplicate code and state', '?code=a&code=b&state=c&state=d'],
      ['huge parameters', `?code=${long(6_000)}&state=${long(6_000)}`],
      ['non-UTF-8 percent-encoding', '?code=%ff%fe&state=%ff%fe'],
      ['malformed percent-encoding', '?code=%zz&state=%'],
    ].map(
      ([what, query]): Case => ({
        name: `/bff/callback: ${what}`,
        request: () => raw('GET', `/bff/callback${query}`),
        expected: { status: 400 },
      }),
    ),
    {
      name: '/bff/callback: with a forged pre-login cookie',
      request: () =>
        raw('GET', '/bff/callback?code=a&state=b', [withCookie(`${cookieName()}-login=${forgedId()}; sessiongate_login=${forgedId()}`)]),
      expected: { status: 400 },
    },

    // /bff/logout, with alice's own session: only her exact sid would end it
    ...[
      ['garbage sid', '?sid=%zz%00<script>'],
      ['no sid', ''],
      ['empty sid', '?sid='],
      ['duplicate sid (both hers)', () => `?sid=${alice.publicId}&sid=${alice.publicId}`],
      ["bob's sid", () => `?sid=${bob.publicId}`],
      ['huge sid', `?sid=${long(8_000)}`],
    ].map(
      ([what, query]): Case => ({
        name: `/bff/logout: ${what as string}`,
        request: () =>
          raw('GET', `/bff/logout${typeof query === 'function' ? query() : (query as string)}`, [
            withCookie(`${cookieName()}=${alice.cookie}`),
          ]),
        expected: invalidLogout,
      }),
    ),

    // /api
    {
      name: '/api: malformed percent-encoding in the path',
      request: () => raw('GET', '/api/echo/%zz', [csrf, withCookie(`${cookieName()}=${alice.cookie}`)]),
      expected: { status: 400 },
    },
    {
      name: '/api: a 10 KB path',
      request: () => raw('GET', `/api/echo/${long(10_240, 'ab/')}`, [csrf, withCookie(`${cookieName()}=${forgedId()}`)]),
      expected: { status: [401, 414] },
    },
    {
      name: '/api: 20 KB of headers',
      request: () =>
        raw('GET', '/api/echo/x', [
          csrf,
          ...Array.from({ length: 20 }, (_, index): [string, string] => [`x-filler-${index}`, long(1_024)]),
        ]),
      expected: { parser: [431, 400] },
    },
    {
      name: '/api: X-CSRF duplicated',
      request: () => raw('GET', '/api/echo/x', [csrf, csrf, withCookie(`${cookieName()}=${forgedId()}`)]),
      expected: { status: [401, 403] },
    },
    {
      name: '/api: X-CSRF duplicated with another value',
      request: () => raw('GET', '/api/echo/x', [csrf, ['X-CSRF', '0'], withCookie(`${cookieName()}=${alice.cookie}`)]),
      expected: { status: 403, error: 'csrf' },
    },
    {
      name: '/api: Content-Length larger than the body',
      request: () =>
        raw(
          'POST',
          '/api/echo/x',
          [csrf, ['Content-Type', 'text/plain'], ['Content-Length', '100'], withCookie(`${cookieName()}=${alice.cookie}`)],
          'short',
          { halfClose: true },
        ),
      // Node's parser sees the connection end mid-body (bad_request), or the proxy does (bad_body).
      expected: { abandoned: { status: 400 } },
    },
    {
      name: '/api: two different Content-Lengths',
      request: () =>
        raw(
          'POST',
          '/api/echo/x',
          [csrf, ['Content-Length', '5'], ['Content-Length', '6'], withCookie(`${cookieName()}=${alice.cookie}`)],
          'hello!',
        ),
      expected: { parser: [400] },
    },
    {
      name: '/api: a non-numeric Content-Length',
      request: () => raw('POST', '/api/echo/x', [csrf, ['Content-Length', 'abc'], withCookie(`${cookieName()}=${alice.cookie}`)], 'hello'),
      expected: { parser: [400] },
    },

    // Admin API, authenticated: garbage input is still a 4xx JSON
    ...[
      ['limit=-1', '?limit=-1'],
      ['limit=1e9', '?limit=1e9'],
      ['limit=abc', '?limit=abc'],
      ['duplicate limit', '?limit=1&limit=2'],
      ['cursor=%00', '?cursor=%00'],
      ['cursor garbage', '?cursor=%ff%fe%zz'],
      ['duplicate sub', '?sub=a&sub=b'],
    ].map(
      ([what, query]): Case => ({
        name: `GET /admin/sessions: ${what}`,
        request: () => raw('GET', `/admin/sessions${query}`, [bearer()]),
        expected: what.startsWith('cursor') ? { status: 400, error: 'invalid_cursor' } : adminInvalid,
      }),
    ),
    {
      name: 'GET /admin/sessions/:id: 5 KB id',
      request: () => raw('GET', `/admin/sessions/${long(5_120)}`, [bearer()]),
      expected: { status: [400, 404] },
    },
    {
      name: 'GET /admin/sessions/:id: malformed percent-encoding',
      request: () => raw('GET', '/admin/sessions/%zz', [bearer()]),
      expected: { status: [400, 404] },
    },
    {
      name: 'DELETE /admin/sessions/:id: invalid JSON body',
      request: () => raw('DELETE', `/admin/sessions/${forgedId()}`, [bearer(), ['Content-Type', 'application/json']], '{"id": '),
      expected: { status: [400, 404] },
    },
    {
      name: 'DELETE /admin/sessions/:id: text/xml body',
      request: () => raw('DELETE', `/admin/sessions/${forgedId()}`, [bearer(), ['Content-Type', 'text/xml']], '<revoke all="true"/>'),
      expected: { status: [400, 404, 415] },
    },
    {
      name: 'DELETE /admin/sessions/:id: 5 KB id',
      request: () => raw('DELETE', `/admin/sessions/${long(5_120)}`, [bearer()]),
      expected: { status: [400, 404] },
    },
    {
      name: 'DELETE /admin/users/:sub/sessions: invalid JSON body',
      request: () => raw('DELETE', '/admin/users/nobody/sessions', [bearer(), ['Content-Type', 'application/json']], '{not json'),
      expected: { status: [400, 415] },
    },
    {
      name: 'DELETE /admin/users/:sub/sessions: text/xml body',
      request: () => raw('DELETE', '/admin/users/nobody/sessions', [bearer(), ['Content-Type', 'text/xml']], '<x/>'),
      expected: { status: [400, 415] },
    },
    // A sub is opaque: `..` and an encoded `/` are just a user nobody is, never another route or another user (alice is u-1001).
    ...['..%2F..%2Fu-1001', '%2e%2e', 'u-1001%2F..%2F', 'u-1001%2f'].map(
      (sub): Case => ({
        name: `DELETE /admin/users/:sub/sessions: sub ${sub}`,
        request: () => raw('DELETE', `/admin/users/${sub}/sessions`, [bearer()]),
        expected: { ok: { revoked: [] } },
      }),
    ),
    {
      name: 'DELETE /admin/users/:sub/sessions: sub with dot segments',
      request: () => raw('DELETE', '/admin/users/../sessions/../u-1001/sessions', [bearer()]),
      expected: { status: [400, 404] },
    },

    // Admin API, unauthenticated: 401 JSON whatever the input
    {
      name: 'GET /admin/sessions unauthenticated: limit garbage',
      request: () => raw('GET', '/admin/sessions?limit=-1&cursor=%00'),
      expected: { status: 401, error: 'invalid_token' },
    },
    {
      name: 'DELETE /admin/sessions/:id unauthenticated: 5 KB id',
      request: () => raw('DELETE', `/admin/sessions/${long(5_120)}`),
      expected: { status: [400, 401] },
    },
    {
      name: 'DELETE /admin/sessions/:id with a garbage bearer',
      request: () => raw('DELETE', `/admin/sessions/${alice.publicId}`, [['Authorization', `Bearer ${long(5_000, 'x.')}`]]),
      expected: { status: 401, error: 'invalid_token' },
    },

    // /bff/backchannel-logout
    {
      name: 'backchannel-logout: not a JWT',
      request: () => raw('POST', '/bff/backchannel-logout', [form], 'logout_token=not-a-jwt'),
      expected: invalidLogoutToken,
    },
    {
      name: 'backchannel-logout: three garbage segments',
      request: () => raw('POST', '/bff/backchannel-logout', [form], 'logout_token=a.b.c'),
      expected: invalidLogoutToken,
    },
    {
      name: 'backchannel-logout: empty token',
      request: () => raw('POST', '/bff/backchannel-logout', [form], 'logout_token='),
      expected: invalidLogoutToken,
    },
    {
      name: 'backchannel-logout: empty body',
      request: () => raw('POST', '/bff/backchannel-logout', [form], ''),
      expected: invalidLogoutToken,
    },
    {
      name: 'backchannel-logout: JSON instead of a form',
      request: () => raw('POST', '/bff/backchannel-logout', [['Content-Type', 'application/json']], '{"logout_token":"a.b.c"}'),
      expected: invalidLogoutToken,
    },
    {
      name: 'backchannel-logout: invalid JSON',
      request: () => raw('POST', '/bff/backchannel-logout', [['Content-Type', 'application/json']], '{"logout_token":'),
      expected: { status: 400 },
    },
    {
      name: 'backchannel-logout: two logout_tokens',
      request: () => raw('POST', '/bff/backchannel-logout', [form], 'logout_token=a.b.c&logout_token=d.e.f'),
      expected: invalidLogoutToken,
    },
    {
      name: 'backchannel-logout: text/xml',
      request: () => raw('POST', '/bff/backchannel-logout', [['Content-Type', 'text/xml']], '<logout_token>a.b.c</logout_token>'),
      expected: { status: [400, 415] },
    },
    {
      name: 'backchannel-logout: a 100 KB body',
      request: () => raw('POST', '/bff/backchannel-logout', [form], `logout_token=${long(100 * 1024, 'eyJhbGciOiJSUzI1NiJ9.')}`),
      expected: { status: [400, 413] },
    },
  ];

  let before: Record<string, unknown>;
  beforeAll(async () => {
    before = await sessionState();
    expect(Object.keys(before)).toEqual(expect.arrayContaining([alice.key, bob.key]));
  });

  it.each(cases)('$name', async ({ request, expected }) => {
    expectSafeRefusal(await request(), expected);
    await expectStillServing();
    expect(await sessionState()).toEqual(before);
  });

  it('never answered 5xx nor logged an error meanwhile', () => {
    const failures = stack.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(failures).toEqual([]);
  });
});

describe('where a malformed returnTo leads after login', () => {
  it.each([
    ['control characters', '/%09/evil.example'],
    ['%00', '/%00/evil.example'],
    ['CR LF', '/%0d%0aSet-Cookie:x=y'],
    ['duplicate returnTo', '/a&returnTo=//evil.example'],
    ['a backslash', '/%5cevil.example'],
  ])('lands on / for %s', async (_, returnTo) => {
    const started = await raw('GET', `/bff/login?returnTo=${returnTo}`);
    expectSafeRefusal(started, { loginRedirect: true });
    const landing = await completeLogin(started);
    const callback = landing.redirects.find((hop) => new URL(hop.url).pathname === '/bff/callback');
    expect(callback?.location).toBe('/');
  });

  it.each([
    ['unicode', '/caf%C3%A9', '/caf%C3%A9'],
    ['non-UTF-8 percent-encoding', '/%ff%fe', '/%ff%fe'],
  ])('keeps a %s returnTo as the same-origin path it is', async (_, returnTo, landing) => {
    const started = await raw('GET', `/bff/login?returnTo=${returnTo}`);
    const callback = (await completeLogin(started)).redirects.find((hop) => new URL(hop.url).pathname === '/bff/callback');
    expect(callback?.location).toBe(landing);
  });
});

describe('tampered ciphertext', () => {
  it("ends only that session, cleanly: 401, record gone, alice's and bob's untouched", async () => {
    const victim = await login('alice');
    const others = async () =>
      Object.fromEntries(await Promise.all([alice, bob].map(async ({ key }) => [key, await stack.redis.client.hgetall(key)] as const)));
    const othersBefore = await others();
    const data = await stack.redis.client.hgetBuffer(victim.key, 'd');
    expect(data).not.toBeNull();
    const flipped = Buffer.from(data!);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
    await stack.redis.client.hset(victim.key, 'd', flipped);
    // Written behind the gateway's back, this publishes nothing, and the instance would go on answering from
    // memory until its next read of Redis (see docs/SESSIONS.md, Session cache): dropping its invalidation feed forces that read.
    await stack.redis.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');

    const response = await raw('GET', '/bff/user', [csrf, withCookie(`${cookieName()}=${victim.cookie}`)]);
    expectSafeRefusal(response, { status: 401 });
    expect(await stack.redis.client.exists(victim.key)).toBe(0);
    expect(await stack.redis.client.keys(`sg:pub:*`)).not.toContain(expect.stringContaining(victim.publicId));
    const again = await raw('GET', '/api/echo/x', [csrf, withCookie(`${cookieName()}=${victim.cookie}`)]);
    expectSafeRefusal(again, { status: 401 });
    expect(await others()).toEqual(othersBefore);
    await expectStillServing();
  });
});

// Bugs this suite found, fixed: the tests that would have caught them.
describe('found by this suite', () => {
  // Fastify's content-type parsing runs before AdminGuard: an unauthenticated caller had its body
  // parsed, and learned so, before being asked for a token (400 for invalid JSON, 415 for text/xml).
  it.each([
    ['invalid JSON', 'application/json', '{'],
    ['text/xml', 'text/xml', '<x/>'],
  ])('an unauthenticated admin call with a %s body is 401 before the body is looked at', async (_, contentType, body) => {
    const response = await raw('DELETE', '/admin/users/u-1001/sessions', [['Content-Type', contentType]], body);
    expectSafeRefusal(response, { status: 401, error: 'invalid_token' });
  });

  // Refusals by the HTTP parser (431, a bad Content-Length, control characters in a header) used
  // Fastify's default clientErrorHandler: `{ error, message, statusCode }`, no requestId, no X-Request-Id.
  it('a refusal by the HTTP parser still has the documented error shape', async () => {
    const response = await raw('GET', '/api/echo/x', [
      csrf,
      ...Array.from({ length: 20 }, (_, index): [string, string] => [`x-filler-${index}`, 'a'.repeat(1_024)]),
    ]);
    expectSafeRefusal(response, { status: 431 });
  });
});
