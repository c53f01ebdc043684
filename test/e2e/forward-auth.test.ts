import { once } from 'node:events';
import { type IncomingHttpHeaders, type OutgoingHttpHeaders, request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import {
  type BrowserClient,
  type EchoApi,
  freePort,
  type GatewayStack,
  type IngressFixture,
  refusedHandshake,
  startCaddy,
  startEchoApi,
  startGatewayStack,
  startNginx,
} from '#sessiongate/testing';

// Forward-auth mode (issue 15, docs/FORWARD-AUTH.md) end to end: the real gateway with a real Redis and
// provider behind the real nginx and caddy running the documented snippets, in front of the echo API.
// The browser talks only to the ingress; the ingress asks the gateway's endpoint about every /api
// request and sends the API what it answers. Then the endpoint's contract for the ingresses the tests
// cannot run (Traefik, Envoy, ingress-nginx), asked directly.

const ENDPOINT = '/bff/forward-auth';
const CSRF = { 'x-csrf': '1' } as const;
const ACCESS_TOKEN_TTL_SECONDS = 3;
const SKEW_SECONDS = 1;
const JSON_TYPE = 'application/json; charset=utf-8';
/** Headers Node adds to every answer: the only ones beside what the endpoint means to send. */
const TRANSPORT_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length']);

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The head as received: status line and header lines. */
  readonly rawHead: string;
}

interface SendOptions {
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string;
  /** The address to connect from (another loopback address is another peer to the gateway). */
  readonly from?: string;
}

/** One request with the target sent byte for byte as given: no URL normalisation on the way (fetch would resolve `..`). */
function send(base: string, method: string, target: string, options: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${base}${target}`,
      { method, path: target, headers: options.headers ?? {}, agent: false, localAddress: options.from },
      async (response) => {
        const chunks: Buffer[] = [];
        for await (const chunk of response) chunks.push(chunk as Buffer);
        const rawHead = [`HTTP/1.1 ${response.statusCode} ${response.statusMessage}`, ...pairs(response.rawHeaders)].join('\r\n');
        resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString(), rawHead });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

function pairs(raw: readonly string[]): string[] {
  const lines: string[] = [];
  for (let index = 0; index < raw.length; index += 2) lines.push(`${raw[index]}: ${raw[index + 1]}`);
  return lines;
}

function expectRefusal(reply: Omit<Reply, 'rawHead'>, status: number, code: string): void {
  expect({ status: reply.status, type: reply.headers['content-type'] }).toEqual({ status, type: JSON_TYPE });
  expect(JSON.parse(reply.body)).toEqual({ error: code, message: expect.any(String), requestId: expect.any(String) });
  expect(reply.headers['cache-control']).toBe('no-store');
  expect(reply.headers.location).toBeUndefined();
  expect(reply.headers.authorization).toBeUndefined();
}

/** The gateway behind an ingress (or none), configured for forward-auth, with its API routes on `echo`. */
interface ForwardAuthSetup {
  readonly stack: GatewayStack;
  readonly echo: EchoApi;
  /** Where the browser goes: the ingress, or the gateway itself without one. */
  readonly url: string;
  /** The gateway itself. */
  readonly gateway: string;
  readonly ingress: IngressFixture | undefined;
  /** Access tokens the provider issued, oldest first. */
  readonly issued: string[];
  stop(): Promise<void>;
}

async function startForwardAuth(start?: typeof startNginx, env: Readonly<Record<string, string>> = {}): Promise<ForwardAuthSetup> {
  const echo = await startEchoApi({ websocket: true });
  const port = await freePort();
  const gateway = `http://127.0.0.1:${port}`;
  // The ingress first: its address is the gateway's PUBLIC_URL, which the provider redirects back to.
  const ingress = start && (await start({ gateway: `127.0.0.1:${port}`, api: `127.0.0.1:${echo.port}` }));
  const url = ingress?.url ?? gateway;
  const stack = await startGatewayStack({
    client: {
      redirect_uris: [`${url}/bff/callback`],
      post_logout_redirect_uris: [`${url}/`],
      backchannel_logout_uri: `${gateway}/bff/backchannel-logout`,
    },
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: url,
      // 127.0.0.1 only: the tests' other loopback addresses are the untrusted browsers.
      TRUST_PROXY: '127.0.0.1',
      FORWARD_AUTH_PATH: ENDPOINT,
      TOKEN_REFRESH_SKEW: String(SKEW_SECONDS),
      ...env,
    },
    idp: { accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS },
    // The ingress sends the API the request target the browser sent: each route's target has the same path.
    routes: () => [
      { prefix: '/api/echo', target: `${echo.url}/api/echo`, token: 'user', websocket: true },
      { prefix: '/api/public', target: `${echo.url}/api/public`, token: 'none' },
      { prefix: '/api/ops', target: `${echo.url}/api/ops`, methods: ['GET', 'HEAD'], require: { groups: { containsAnyOf: ['ops'] } } },
    ],
  });
  const issued: string[] = [];
  stack.idp.onTokenResponse = (body) => {
    if (typeof body.access_token === 'string') issued.push(body.access_token);
  };
  return {
    stack,
    echo,
    url,
    gateway,
    ingress,
    issued,
    async stop() {
      await ingress?.stop();
      await stack?.stop();
      await echo.stop();
    },
  };
}

async function loggedIn(setup: ForwardAuthSetup, username = 'alice'): Promise<{ browser: BrowserClient; cookie: string }> {
  const browser = setup.stack.browser();
  await browser.login(setup.url, { username, password: username });
  const cookie = Object.entries(browser.cookies(setup.url))
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
  if (!cookie.includes(`${setup.stack.config.session.cookieName}=`)) throw new Error('no session cookie after the login');
  return { browser, cookie };
}

function refreshGrants(stack: GatewayStack): number {
  return stack.idp.events.filter((event) => event.name === 'grant.success' && event.grantType === 'refresh_token').length;
}

/** The public id of the browser's session, from the logout link /bff/user gives. */
async function publicIdOf(setup: ForwardAuthSetup, browser: BrowserClient): Promise<string> {
  const user = (await browser.get(`${setup.url}/bff/user`, { headers: CSRF, from: setup.url })).json<{ logoutUrl: string }>();
  return new URL(user.logoutUrl, setup.url).searchParams.get('sid')!;
}

function webSocket(url: string, headers: Record<string, string>): WebSocket {
  return new WebSocket(url, { headers });
}

describe.each([
  ['nginx', startNginx],
  ['caddy', startCaddy],
] as const)('behind %s with the documented snippet', (_kind, start) => {
  let setup: ForwardAuthSetup;
  let alice: { browser: BrowserClient; cookie: string };

  beforeAll(async () => {
    setup = await startForwardAuth(start);
    alice = await loggedIn(setup);
  });

  afterAll(async () => {
    await setup?.stop();
  });

  beforeEach(() => {
    setup.echo.requests.length = 0;
  });

  it('logs in through the ingress; /api calls reach the API with the access token, without the cookie', async () => {
    const read = await alice.browser.get(`${setup.url}/api/echo/items?page=2`, { headers: CSRF, from: setup.url });
    expect(read.status).toBe(200);
    expect(read.headers.get('x-echo')).toBe('yes');
    expect(read.headers.get('set-cookie')).toBeNull();
    // Read now: the short-lived token may be refreshed by the next request's check.
    const tokens = [setup.issued.at(-1)];
    const write = await alice.browser.post(`${setup.url}/api/echo/items`, { json: { title: 'milk' }, headers: CSRF, from: setup.url });
    expect(write.status).toBe(200);
    tokens.push(setup.issued.at(-1));
    const [get, post] = setup.echo.requests;
    expect(setup.echo.requests).toHaveLength(2);
    expect(get).toMatchObject({ method: 'GET', url: '/api/echo/items?page=2' });
    expect(post).toMatchObject({ method: 'POST', url: '/api/echo/items', body: '{"title":"milk"}' });
    for (const [index, request] of [get!, post!].entries()) {
      expect(request.headers.authorization).toBe(`Bearer ${tokens[index]}`);
      expect(request.headers.cookie).toBeUndefined();
      expect(request.headers['x-request-id']).toEqual(expect.any(String));
    }
    expect(setup.stack.logs.filter((line) => setup.issued.some((token) => line.includes(token)))).toEqual([]);
  });

  it('sends a route with token "none" no Authorization, whatever the browser sent', async () => {
    const reply = await send(setup.url, 'GET', '/api/public/news', { headers: { ...CSRF, authorization: 'Bearer from-the-browser' } });
    expect(reply.status).toBe(200);
    expect(setup.echo.requests[0]!.headers.authorization).toBeUndefined();
  });

  it.each([
    ['no session', '/api/echo/items', { ...CSRF }, 401, 'unauthenticated'],
    ['no X-CSRF', '/api/echo/items', {}, 403, 'csrf'],
    ['no route', '/api/nothing/here', { ...CSRF }, 404, 'no_route'],
  ])('refuses with the gateway’s JSON error: %s', async (_case, target, headers, status, code) => {
    const cookie = status === 401 ? {} : { cookie: alice.cookie };
    const reply = await send(setup.url, 'GET', target, { headers: { ...headers, ...cookie } });
    expectRefusal(reply, status, code);
    expect(reply.headers['x-sessiongate-error']).toBeUndefined();
    expect(setup.echo.requests).toEqual([]);
  });

  it.each([
    '/api/echo/../public/x',
    '/api/echo/%2e%2e/%2e%2e/admin',
    '/api/echo/%252e%252e/admin',
    '/api/echo/a%2fb',
    '/api/echo/..;/admin',
    '/api/echo//admin',
  ])('refuses a path that could escape its route: %s', async (target) => {
    const reply = await send(setup.url, 'GET', target, { headers: { ...CSRF, cookie: alice.cookie } });
    expectRefusal(reply, 400, 'bad_path');
    expect(setup.echo.requests).toEqual([]);
  });

  it('judges the route policy on the original request: its method, and the caller’s claims', async () => {
    const bob = await loggedIn(setup, 'bob');
    expect((await send(setup.url, 'GET', '/api/ops/status', { headers: { ...CSRF, cookie: bob.cookie } })).status).toBe(200);
    expectRefusal(await send(setup.url, 'GET', '/api/ops/status', { headers: { ...CSRF, cookie: alice.cookie } }), 403, 'forbidden');
    const post = await send(setup.url, 'POST', '/api/ops/status', { headers: { ...CSRF, cookie: bob.cookie }, body: '{}' });
    expectRefusal(post, 405, 'method_not_allowed');
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(setup.echo.requests.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /api/ops/status']);
  });

  it('never lets the browser ask the endpoint, nor name another request than the one it sends', async () => {
    const spoof = {
      ...CSRF,
      cookie: alice.cookie,
      'x-original-uri': '/api/public/x',
      'x-original-method': 'GET',
      'x-forwarded-uri': '/api/public/x',
      'x-forwarded-method': 'GET',
    };
    const direct = await send(setup.url, 'GET', ENDPOINT, { headers: spoof });
    expect(direct.status).toBe(404);
    expect(direct.headers.authorization).toBeUndefined();
    // Each ingress sets its own form over the browser's, and passes the other form on: named two ways, refused.
    const named = await send(setup.url, 'GET', '/api/echo/items', { headers: spoof });
    expectRefusal(named, 400, 'bad_original_request');
    expect(setup.echo.requests).toEqual([]);
  });

  it('refreshes the token during the check once it nears expiry, once for concurrent requests', async () => {
    const before = refreshGrants(setup.stack);
    const issuedBefore = setup.issued.length;
    await new Promise((resolve) => setTimeout(resolve, (ACCESS_TOKEN_TTL_SECONDS - SKEW_SECONDS) * 1000 + 300));
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        send(setup.url, 'GET', `/api/echo/c${index}`, { headers: { ...CSRF, cookie: alice.cookie } }),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(6).fill(200));
    expect(refreshGrants(setup.stack)).toBe(before + 1);
    expect(setup.issued).toHaveLength(issuedBefore + 1);
    const tokens = new Set(setup.echo.requests.map((request) => request.headers.authorization));
    expect([...tokens]).toEqual([`Bearer ${setup.issued.at(-1)}`]);
  });

  it('streams a response through as it comes', async () => {
    const arrivals: { at: number; text: string }[] = [];
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        `${setup.url}/api/echo/stream?chunks=3&ms=300`,
        { headers: { ...CSRF, cookie: alice.cookie }, agent: false },
        (response) => {
          response.setEncoding('utf8');
          response.on('data', (text: string) => arrivals.push({ at: Date.now(), text }));
          response.on('end', () => resolve(response.statusCode!));
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(200);
    expect(arrivals.map((part) => part.text).join('')).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\n');
    // A buffering ingress would deliver everything at once, at the end.
    expect(arrivals.at(-1)!.at - arrivals[0]!.at).toBeGreaterThanOrEqual(400);
    expect(setup.echo.requests[0]!.headers.authorization).toBe(`Bearer ${setup.issued.at(-1)}`);
  });

  it('passes a WebSocket from the gateway’s own page, with the token and without the cookie', async () => {
    const socket = webSocket(`${setup.url.replace('http', 'ws')}/api/echo/socket?room=1`, { cookie: alice.cookie, origin: setup.url });
    await once(socket, 'open');
    socket.send('hello');
    const [message] = (await once(socket, 'message')) as [Buffer];
    socket.close();
    expect(String(message)).toBe('echo:hello');
    const [handshake] = setup.echo.requests;
    expect(handshake!.url).toBe('/api/echo/socket?room=1');
    expect(handshake!.headers.authorization).toBe(`Bearer ${setup.issued.at(-1)}`);
    expect(handshake!.headers.cookie).toBeUndefined();
  });

  it('refuses a WebSocket from another origin, or on a route without websocket: true', async () => {
    const base = setup.url.replace('http', 'ws');
    const foreign = await refusedHandshake(webSocket(`${base}/api/echo/socket`, { cookie: alice.cookie, origin: 'https://evil.example' }));
    expectRefusal(foreign, 403, 'csrf');
    const plain = await refusedHandshake(webSocket(`${base}/api/public/socket`, { cookie: alice.cookie, origin: setup.url }));
    expectRefusal(plain, 400, 'upgrade_not_allowed');
    expect(setup.echo.requests).toEqual([]);
  });

  it('refuses the very next request once the session is revoked, or logged out', async () => {
    // Two sessions of bob's, each in a browser of its own.
    const bob = await loggedIn(setup, 'bob');
    const other = await loggedIn(setup, 'bob');
    for (const { cookie } of [bob, other]) {
      expect((await send(setup.url, 'GET', '/api/echo/items', { headers: { ...CSRF, cookie } })).status).toBe(200);
    }
    const revoked = await fetch(`${setup.stack.gateway.adminUrl}/admin/sessions/${await publicIdOf(setup, bob.browser)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await setup.stack.adminToken()}` },
    });
    expect(revoked.status).toBe(200);
    expectRefusal(await send(setup.url, 'GET', '/api/echo/items', { headers: { ...CSRF, cookie: bob.cookie } }), 401, 'unauthenticated');
    const logout = await other.browser.get(`${setup.url}/bff/logout?sid=${await publicIdOf(setup, other.browser)}`, { from: setup.url });
    expect(logout.status).toBe(200);
    expectRefusal(await send(setup.url, 'GET', '/api/echo/items', { headers: { ...CSRF, cookie: other.cookie } }), 401, 'unauthenticated');
    expect(setup.echo.requests).toHaveLength(2);
  });
});

describe('the endpoint’s contract, asked directly', () => {
  let setup: ForwardAuthSetup;
  let alice: { browser: BrowserClient; cookie: string };

  beforeAll(async () => {
    setup = await startForwardAuth();
    alice = await loggedIn(setup);
  });

  afterAll(async () => {
    await setup?.stop();
  });

  const ask = (method: string, target: string, headers: OutgoingHttpHeaders = {}, from?: string) =>
    send(setup.gateway, method, target, { headers, from });

  /** What the answer says beyond what Node adds to every answer. */
  const meaningful = (reply: Reply) =>
    Object.keys(reply.headers)
      .filter((name) => !TRANSPORT_HEADERS.has(name))
      .sort();

  function expectYes(reply: Reply, token = setup.issued.at(-1)): void {
    expect([reply.status, reply.body]).toEqual([200, '']);
    expect(reply.headers.authorization).toBe(`Bearer ${token}`);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(meaningful(reply)).toEqual(['authorization', 'cache-control', 'x-request-id']);
  }

  /** A refusal as every ingress can carry it: the JSON body, and its copy in X-Sessiongate-Error for nginx. */
  function expectCarriedRefusal(reply: Reply, status: number, code: string): void {
    expectRefusal(reply, status, code);
    expect(reply.headers['x-sessiongate-error']).toBe(reply.body);
    expect(reply.headers['set-cookie']).toBeUndefined();
    expect(reply.rawHead).toMatch(/^[\x20-\x7e\r\n]+$/);
    expect(Buffer.byteLength(reply.rawHead)).toBeLessThan(4096);
  }

  it('answers Traefik’s form (X-Forwarded-Method, X-Forwarded-Uri) with the token and nothing else', async () => {
    const reply = await ask('GET', ENDPOINT, {
      ...CSRF,
      cookie: alice.cookie,
      'x-forwarded-method': 'PUT',
      'x-forwarded-uri': '/api/echo/items/7?x=%2F',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example.com',
      'x-forwarded-for': '203.0.113.9',
      'x-request-id': 'traefik-check-1',
    });
    expectYes(reply);
    expect(reply.headers['x-request-id']).toBe('traefik-check-1');
  });

  it('answers ingress-nginx’s form (X-Original-*, X-Scheme, a blank X-Forwarded-Proto)', async () => {
    const reply = await ask('GET', ENDPOINT, {
      ...CSRF,
      cookie: alice.cookie,
      'x-original-method': 'GET',
      'x-original-uri': '/api/echo/items',
      'x-original-url': 'https://app.example.com/api/echo/items',
      'x-scheme': 'https',
      'x-forwarded-proto': '',
    });
    expectYes(reply);
  });

  it.each(['GET', 'POST', 'PATCH', 'DELETE', 'HEAD'])(
    'answers Envoy’s form, %s to the endpoint’s path and the original target',
    async (method) => {
      const reply = await ask(method, `${ENDPOINT}/api/echo/items/7?x=1`, { ...CSRF, cookie: alice.cookie, 'content-length': '0' });
      expectYes(reply);
    },
  );

  it('never reads a body Envoy is told to send along, and takes long paths', async () => {
    const headers = { ...CSRF, cookie: alice.cookie };
    const json = await send(setup.gateway, 'POST', `${ENDPOINT}/api/echo/items`, {
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{"not":',
    });
    expectYes(json);
    expectYes(await send(setup.gateway, 'PUT', `${ENDPOINT}/api/echo/items`, { headers, body: 'x'.repeat(100_000) }));
    expectYes(await ask('GET', `${ENDPOINT}/api/echo/${'segment/'.repeat(100)}end?${'q=1&'.repeat(100)}`, headers));
  });

  it('judges a WebSocket handshake by its Origin instead of X-CSRF', async () => {
    const handshake = { cookie: alice.cookie, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };
    expectYes(await ask('GET', `${ENDPOINT}/api/echo/socket`, { ...handshake, origin: setup.url }));
    expectCarriedRefusal(await ask('GET', `${ENDPOINT}/api/echo/socket`, handshake), 403, 'csrf');
    expectCarriedRefusal(
      await ask('GET', `${ENDPOINT}/api/public/socket`, { ...handshake, origin: setup.url }),
      400,
      'upgrade_not_allowed',
    );
  });

  it('answers a route with token "none" without Authorization', async () => {
    const reply = await ask('GET', `${ENDPOINT}/api/public/news`, { ...CSRF });
    expect(reply.status).toBe(200);
    expect(meaningful(reply)).toEqual(['cache-control', 'x-request-id']);
  });

  it.each([
    ['no session', { ...CSRF, 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/api/echo/a' }, 401, 'unauthenticated'],
    ['no X-CSRF', { cookie: 'x', 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/api/echo/a' }, 403, 'csrf'],
    [
      'a foreign Origin (the cross-origin step)',
      { ...CSRF, origin: 'https://evil.example', 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/api/echo/a' },
      403,
      'csrf',
    ],
    ['no route', { ...CSRF, 'x-original-method': 'GET', 'x-original-uri': '/api/none' }, 404, 'no_route'],
    ['a path escape', { ...CSRF, 'x-original-method': 'GET', 'x-original-uri': '/api/echo/%2e%2e/admin' }, 400, 'bad_path'],
    ['no original request', { ...CSRF }, 400, 'bad_original_request'],
    [
      'two forms',
      { ...CSRF, 'x-original-method': 'GET', 'x-original-uri': '/api/echo/a', 'x-forwarded-uri': '/api/public/a' },
      400,
      'bad_original_request',
    ],
    ['TRACE', { ...CSRF, 'x-original-method': 'TRACE', 'x-original-uri': '/api/echo/a' }, 400, 'bad_original_request'],
  ])('refuses %s with the JSON error, copied ASCII-only into X-Sessiongate-Error', async (_case, headers, status, code) => {
    const cookie = status === 401 || code === 'csrf' ? {} : { cookie: alice.cookie };
    expectCarriedRefusal(await ask('GET', ENDPOINT, { ...cookie, ...headers }), status, code);
  });

  it('refuses any peer outside TRUST_PROXY, whatever it names (a spoofed X-Original-URI)', async () => {
    const spoofed = { ...CSRF, cookie: alice.cookie, 'x-original-method': 'GET', 'x-original-uri': '/api/echo/items' };
    expectYes(await ask('GET', ENDPOINT, spoofed));
    expectCarriedRefusal(await ask('GET', ENDPOINT, spoofed, '127.0.0.2'), 403, 'untrusted_proxy');
    expectCarriedRefusal(
      await ask('GET', `${ENDPOINT}/api/echo/items`, { ...CSRF, cookie: alice.cookie }, '127.0.0.2'),
      403,
      'untrusted_proxy',
    );
    expectCarriedRefusal(await ask('GET', ENDPOINT, {}, '127.0.0.3'), 403, 'untrusted_proxy');
  });

  it('logs each check as a request to the API route, with the session and never a token', async () => {
    await ask('GET', ENDPOINT, {
      ...CSRF,
      cookie: alice.cookie,
      'x-forwarded-method': 'GET',
      'x-forwarded-uri': '/api/echo/logged',
      'x-request-id': 'logged-check',
    });
    const line = setup.stack.logs
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .find((entry) => entry.msg === 'request completed' && entry.reqId === 'logged-check');
    expect(line).toMatchObject({ method: 'GET', path: ENDPOINT, route: '/api/echo', status: 200, session: expect.any(String) });
    expect(setup.stack.logs.filter((text) => setup.issued.some((token) => text.includes(token)))).toEqual([]);
  });
});
