import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect as connectTcp, type Socket } from 'node:net';
import { type Browser, type Page } from 'playwright-core';
import WebSocket, { WebSocketServer } from 'ws';
import { WebSocketProxy } from '#sessiongate/proxy';
import { sessionKeyHash } from '#sessiongate/session';
import {
  launchChromium,
  type BrowserClient,
  freePort,
  type GatewayStack,
  type HandshakeRefusal,
  refusedHandshake,
  startGatewayStack,
} from '#sessiongate/testing';

// WebSockets through the real gateway, a real provider and Redis, to a real WebSocket API (ws).

const CHECK_INTERVAL_MS = 200;
const LISTED_ORIGIN = 'https://partner.example.com';
const CSRF = { 'x-csrf': '1' } as const;

/** A WebSocket API that records each handshake, echoes every message as `echo:<text>`, and refuses paths ending in /forbidden. */
interface WebSocketApi {
  readonly url: string;
  readonly handshakes: { url: string; headers: IncomingHttpHeaders }[];
  /** The server side of each accepted connection, in order. */
  readonly connections: WebSocket[];
  stop(): Promise<void>;
}

async function startWebSocketApi(): Promise<WebSocketApi> {
  const handshakes: WebSocketApi['handshakes'] = [];
  const connections: WebSocket[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request: IncomingMessage, socket, head) => {
    handshakes.push({ url: request.url!, headers: request.headers });
    if (request.url!.endsWith('/forbidden')) {
      socket.end(
        'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 9\r\nset-cookie: api=1\r\nconnection: close\r\n\r\nforbidden',
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (connection) => {
      connections.push(connection);
      connection.on('message', (data) => connection.send(`echo:${String(data)}`));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handshakes,
    connections,
    async stop() {
      for (const connection of wss.clients) connection.terminate();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

let api: WebSocketApi;
let stack: GatewayStack;

function wsUrl(path: string, base = stack.url): string {
  return `${base.replace(/^http/, 'ws')}${path}`;
}

function sessionCookie(browser: BrowserClient, on = stack): string {
  const value = browser.cookies(on.url)[on.config.session.cookieName];
  if (!value) throw new Error('no session cookie');
  return value;
}

/** A WebSocket as a page of the gateway's origin opens it: with its Origin and the session cookie (unless given other headers). */
function connect(path: string, options: { cookie?: string; origin?: string | null; base?: string } = {}): WebSocket {
  const headers: Record<string, string> = {};
  if (options.cookie !== undefined) headers.cookie = `${stack.config.session.cookieName}=${options.cookie}`;
  const origin = options.origin === undefined ? (options.base ?? stack.url) : options.origin;
  return new WebSocket(wsUrl(path, options.base), { headers, ...(origin === null ? {} : { origin }) });
}

async function opened(socket: WebSocket): Promise<WebSocket> {
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`handshake answered ${response.statusCode}`)));
  });
  return socket;
}

function expectRefusal(refusal: HandshakeRefusal, status: number, code: string): void {
  expect({ status: refusal.status, body: refusal.body }).toEqual({ status, body: expect.any(String) });
  expect(refusal.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(refusal.body)).toEqual({ error: code, message: expect.any(String), requestId: refusal.headers['x-request-id'] });
}

/** Polls a condition that no event announces (bytes arriving on a raw socket). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

function nextMessage(socket: WebSocket): Promise<string> {
  return once(socket, 'message').then(([data]) => String(data));
}

/** The close code and reason the socket got (from the other end's close frame; 1006 without one). */
function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
}

const SESSION_ENDED = { code: 1008, reason: 'session_ended' };

beforeAll(async () => {
  api = await startWebSocketApi();
  const nothingListening = await freePort();
  stack = await startGatewayStack({
    env: { WEBSOCKET_SESSION_CHECK_MS: String(CHECK_INTERVAL_MS), CORS_ALLOWED_ORIGINS: LISTED_ORIGIN },
    routes: () => [
      { prefix: '/api/live', target: `${api.url}/v1`, token: 'user', websocket: true },
      { prefix: '/api/ticker', target: api.url, token: 'optional', websocket: true },
      { prefix: '/api/gone', target: `http://127.0.0.1:${nothingListening}`, token: 'none', websocket: true },
      { prefix: '/api/ops-live', target: api.url, websocket: true, require: { groups: { containsAnyOf: ['ops'] } } },
    ],
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await api?.stop();
});

describe('a WebSocket on a websocket route', () => {
  let alice: BrowserClient;
  let accessToken: string;

  beforeAll(async () => {
    stack.idp.onTokenResponse = (body) => {
      accessToken = String(body.access_token);
    };
    try {
      alice = await stack.loginAs('alice');
    } finally {
      stack.idp.onTokenResponse = undefined;
    }
  });

  it("reaches the API with the session's access token, the path mapped, and none of the browser's credentials", async () => {
    const socket = await opened(connect('/api/live/room/7?since=3', { cookie: sessionCookie(alice) }));
    const { url, headers } = api.handshakes.at(-1)!;
    expect(url).toBe('/v1/room/7?since=3');
    expect(headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(headers).not.toHaveProperty('cookie');
    expect(headers['x-forwarded-host']).toBe(new URL(stack.url).host);
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-request-id']).toEqual(expect.any(String));
    expect(headers.upgrade).toBe('websocket');
    socket.close();
    await closed(socket);
  });

  it('carries messages both ways, text and binary', async () => {
    const socket = await opened(connect('/api/live/chat', { cookie: sessionCookie(alice) }));
    const upstream = api.connections.at(-1)!;
    socket.send('hello');
    expect(await nextMessage(socket)).toBe('echo:hello');
    upstream.send('pushed by the API');
    expect(await nextMessage(socket)).toBe('pushed by the API');
    const binary = Buffer.from([0, 1, 2, 255]);
    const received = once(upstream, 'message');
    socket.send(binary);
    expect(Buffer.from((await received)[0] as Buffer)).toEqual(binary);
    const upstreamClosed = closed(upstream);
    socket.close(1000, 'bye');
    expect(await closed(socket)).toEqual({ code: 1000, reason: 'bye' });
    expect(await upstreamClosed).toEqual({ code: 1000, reason: 'bye' });
  });

  it('is accepted from an origin in CORS_ALLOWED_ORIGINS', async () => {
    const socket = await opened(connect('/api/live/chat', { cookie: sessionCookie(alice), origin: LISTED_ORIGIN }));
    socket.close();
    await closed(socket);
  });

  it.each([
    ['another origin', 'https://evil.example'],
    ['no Origin', null],
  ])('is refused with 403 csrf from %s, and never reaches the API', async (_, origin) => {
    const before = api.handshakes.length;
    expectRefusal(await refusedHandshake(connect('/api/live/chat', { cookie: sessionCookie(alice), origin })), 403, 'csrf');
    expect(api.handshakes.length).toBe(before);
  });

  it('is refused with 401 unauthenticated without a session, or with an unknown one', async () => {
    const before = api.handshakes.length;
    expectRefusal(await refusedHandshake(connect('/api/live/chat')), 401, 'unauthenticated');
    expectRefusal(await refusedHandshake(connect('/api/live/chat', { cookie: 'A'.repeat(43) })), 401, 'unauthenticated');
    expect(api.handshakes.length).toBe(before);
  });

  it('opens without a token on an optional route without a session, with the token with one', async () => {
    const anonymous = await opened(connect('/api/ticker/prices'));
    expect(api.handshakes.at(-1)!.headers).not.toHaveProperty('authorization');
    const signedIn = await opened(connect('/api/ticker/prices', { cookie: sessionCookie(alice) }));
    expect(api.handshakes.at(-1)!.headers.authorization).toBe(`Bearer ${accessToken}`);
    anonymous.close();
    signedIn.close();
    await Promise.all([closed(anonymous), closed(signedIn)]);
  });

  it("takes the route's require: alice is refused with 403 forbidden, bob (in ops) gets through", async () => {
    const before = api.handshakes.length;
    expectRefusal(await refusedHandshake(connect('/api/ops-live/feed', { cookie: sessionCookie(alice) })), 403, 'forbidden');
    expect(api.handshakes.length).toBe(before);
    const bob = await opened(connect('/api/ops-live/feed', { cookie: sessionCookie(await stack.loginAs('bob')) }));
    expect(api.handshakes.length).toBe(before + 1);
    bob.close();
    await closed(bob);
  });

  it("passes the API's own refusal of the handshake on, without its cookies", async () => {
    const refusal = await refusedHandshake(connect('/api/live/forbidden', { cookie: sessionCookie(alice) }));
    expect(refusal).toMatchObject({ status: 403, body: 'forbidden' });
    expect(refusal.headers).not.toHaveProperty('set-cookie');
  });

  it('answers 502 upstream_unavailable when the API cannot be reached', async () => {
    expectRefusal(await refusedHandshake(connect('/api/gone/x')), 502, 'upstream_unavailable');
  });

  it('logs neither the access token nor the session cookie', () => {
    const logs = stack.logs.join('\n');
    expect(logs).toContain('websocket closed');
    expect(logs).not.toContain(accessToken);
    expect(logs).not.toContain(sessionCookie(alice));
  });
});

describe('upgrades the gateway does not accept', () => {
  let bob: BrowserClient;
  beforeAll(async () => {
    bob = await stack.loginAs('bob');
  });

  it.each([
    ['a route without websocket: true', '/api/echo/x', 400, 'upgrade_not_allowed'],
    ['an unknown route', '/api/nowhere/x', 404, 'no_route'],
    ['a path outside /api', '/bff/user', 404, 'no_route'],
    ['a path that would leave the base path', '/api/live/..%2fadmin', 400, 'bad_path'],
  ])('%s (%s) is refused with %s %s', async (_, path, status, code) => {
    const before = [api.handshakes.length, stack.echo.requests.length];
    expectRefusal(await refusedHandshake(connect(path, { cookie: sessionCookie(bob) })), status, code);
    expect([api.handshakes.length, stack.echo.requests.length]).toEqual(before);
  });

  it('an upgrade to anything but WebSocket is refused and the connection closed', async () => {
    const { hostname, port } = new URL(stack.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const call = httpRequest(
        { host: hostname, port, path: '/api/live/x', headers: { connection: 'upgrade', upgrade: 'h2c', origin: stack.url } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks).toString() }));
        },
      );
      call.on('upgrade', () => reject(new Error('upgraded')));
      call.on('error', reject);
      call.end();
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'upgrade_not_allowed' });
  });
});

describe('a WebSocket ends with its session', () => {
  async function sessionPublicId(browser: BrowserClient): Promise<string> {
    const page = await browser.get(`${stack.url}/bff/sessions`, { headers: CSRF, from: stack.url });
    return page.json<{ sessions: { id: string; current: boolean }[] }>().sessions.find((session) => session.current)!.id;
  }

  it('is closed with 1008 session_ended, upstream too, when an admin revokes the session, and cannot reopen', async () => {
    const revoked = await stack.loginAs('alice');
    const cookie = sessionCookie(revoked);
    const socket = await opened(connect('/api/live/chat', { cookie }));
    const socketClosed = closed(socket);
    const upstreamClosed = closed(api.connections.at(-1)!);
    const revoke = await fetch(`${stack.gateway.adminUrl}/admin/sessions/${encodeURIComponent(await sessionPublicId(revoked))}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await stack.adminToken()}` },
    });
    expect(revoke.status).toBe(200);
    expect(await socketClosed).toEqual(SESSION_ENDED);
    expect(await upstreamClosed).toEqual(SESSION_ENDED);
    expectRefusal(await refusedHandshake(connect('/api/live/chat', { cookie })), 401, 'unauthenticated');
  });

  it('is closed as soon as another instance revokes the session, long before the periodic check', async () => {
    // An instance whose periodic check would come only after the test: the store's announcement closes it.
    const second = await stack.startInstance({ WEBSOCKET_SESSION_CHECK_MS: '600000' });
    const revoked = await stack.loginAs('alice');
    const socket = await opened(connect('/api/live/chat', { cookie: sessionCookie(revoked), base: second, origin: stack.url }));
    const socketClosed = closed(socket);
    const revoke = await fetch(`${stack.gateway.adminUrl}/admin/sessions/${encodeURIComponent(await sessionPublicId(revoked))}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await stack.adminToken()}` },
    });
    expect(revoke.status).toBe(200);
    expect(await socketClosed).toEqual(SESSION_ENDED);
  });

  it('is closed with 1008 session_ended when the user logs out', async () => {
    const leaving = await stack.loginAs('bob');
    const socket = await opened(connect('/api/live/chat', { cookie: sessionCookie(leaving) }));
    const socketClosed = closed(socket);
    const { logoutUrl } = (await leaving.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{ logoutUrl: string }>();
    expect((await leaving.get(`${stack.url}${logoutUrl}`, { followRedirects: false })).status).toBe(302);
    expect(await socketClosed).toEqual(SESSION_ENDED);
  });

  it('closeSession closes every WebSocket of that session at once, and only those', async () => {
    const closing = await stack.loginAs('alice');
    const other = await stack.loginAs('bob');
    const sockets = await Promise.all([
      opened(connect('/api/live/a', { cookie: sessionCookie(closing) })),
      opened(connect('/api/ticker/b', { cookie: sessionCookie(closing) })),
    ]);
    const otherSocket = await opened(connect('/api/live/c', { cookie: sessionCookie(other) }));
    const socketsClosed = Promise.all(sockets.map(closed));
    const proxy = stack.gateway.app.get(WebSocketProxy);
    expect(proxy.closeSession(sessionKeyHash(sessionCookie(closing)))).toBe(2);
    expect(await socketsClosed).toEqual([SESSION_ENDED, SESSION_ENDED]);
    // The session itself goes on (only its sockets were closed), and so does the other user's socket.
    expect((await closing.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).status).toBe(200);
    otherSocket.send('still here');
    expect(await nextMessage(otherSocket)).toBe('echo:still here');
    otherSocket.close();
    await closed(otherSocket);
  });
});

describe('a close in the middle of a frame', () => {
  it('cuts the connection rather than put a close frame inside that frame', async () => {
    const browser = await stack.loginAs('alice');
    const { hostname, port } = new URL(stack.url);
    // A raw client, to see every byte the gateway sends after the handshake.
    const raw = connectTcp({ host: hostname, port: Number(port) });
    await once(raw, 'connect');
    raw.write(
      `GET /api/live/big HTTP/1.1\r\nhost: ${hostname}:${port}\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n` +
        `sec-websocket-key: ${randomBytes(16).toString('base64')}\r\norigin: ${stack.url}\r\ncookie: ${stack.config.session.cookieName}=${sessionCookie(browser)}\r\n\r\n`,
    );
    let received = Buffer.alloc(0);
    raw.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    const ended = new Promise((resolve) => raw.once('close', resolve));
    const partial = Buffer.concat([Buffer.from([0x81, 4]), Buffer.from('ping'), Buffer.from([0x82, 126, 0xff, 0xff]), Buffer.alloc(10)]);
    await waitFor(() => api.connections.length > 0 && api.handshakes.at(-1)!.url === '/v1/big' && received.includes('\r\n\r\n'));
    // A whole text frame "ping", then the header and ten bytes of a 65535-byte binary frame, in one write.
    (api.connections.at(-1)! as unknown as { _socket: Socket })._socket.write(partial);
    await waitFor(() => received.subarray(received.indexOf('\r\n\r\n') + 4).length === partial.length);
    expect(stack.gateway.app.get(WebSocketProxy).closeSession(sessionKeyHash(sessionCookie(browser)))).toBe(1);
    await ended;
    expect(received.subarray(received.indexOf('\r\n\r\n') + 4)).toEqual(partial);
  });
});

describe('shutting down', () => {
  it('closes the open WebSockets with 1001, so that the gateway stops without waiting for them', async () => {
    const own = await startGatewayStack({ routes: () => [{ prefix: '/api/live', target: api.url, token: 'none', websocket: true }] });
    const socket = await opened(connect('/api/live/x', { base: own.url }).on('error', () => undefined));
    const socketClosed = closed(socket);
    await own.stop();
    expect(await socketClosed).toEqual({ code: 1001, reason: 'shutting_down' });
  });
});

describe("at the session's absolute expiry", () => {
  it('a WebSocket is closed with 1008 session_ended, without waiting for a periodic check', async () => {
    const short = await startGatewayStack({
      // The periodic check never comes during the test: only the expiry can close the socket.
      env: { SESSION_ABSOLUTE_TIMEOUT: '3', WEBSOCKET_SESSION_CHECK_MS: '600000' },
      routes: () => [{ prefix: '/api/live', target: api.url, token: 'user', websocket: true }],
    });
    try {
      const browser = await short.loginAs('bob');
      const socket = await opened(connect('/api/live/x', { base: short.url, cookie: sessionCookie(browser, short) }));
      expect(await closed(socket)).toEqual(SESSION_ENDED);
    } finally {
      await short.stop();
    }
  });
});

describe('in Chromium', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    // Log in as a user would; the landing page is any page of the gateway's origin.
    await page.goto(`${stack.url}/bff/login?returnTo=/healthz`);
    await page.locator('#username').fill('alice');
    await page.locator('#password').fill('alice');
    await page.locator('#sign-in').click();
    await page.waitForURL(`${stack.url}/healthz`);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a WebSocket from the page, sends one message and resolves with the answer, or with the close code when it fails. */
  function exchange(from: Page, url: string): Promise<string> {
    return from.evaluate(
      (target) =>
        new Promise<string>((resolve) => {
          const socket = new WebSocket(target);
          socket.onopen = () => socket.send('from the page');
          socket.onmessage = (event) => {
            resolve(String(event.data));
            socket.close();
          };
          socket.onclose = (event) => resolve(`closed ${event.code}`);
        }),
      url,
    );
  }

  it("a page of the gateway's origin opens a WebSocket with its session cookie, which reaches the API as a bearer token", async () => {
    expect(await exchange(page, wsUrl('/api/live/browser'))).toBe('echo:from the page');
    const { headers } = api.handshakes.at(-1)!;
    expect(headers.authorization).toMatch(/^Bearer [\w-]+(\.[\w-]+)*$/);
    expect(headers).not.toHaveProperty('cookie');
  });

  it('a page of another site cannot open one with that session (cross-site WebSocket hijacking)', async () => {
    const elsewhere = await browser.newPage();
    try {
      await elsewhere.goto(`${stack.idp.issuer}/.well-known/openid-configuration`);
      const before = api.handshakes.length;
      expect(await exchange(elsewhere, wsUrl('/api/live/browser'))).toBe('closed 1006');
      expect(api.handshakes.length).toBe(before);
    } finally {
      await elsewhere.close();
    }
  });
});

// Last: it leaves Redis empty.
describe('while Redis is down', () => {
  it('a handshake is refused with 503, an open WebSocket stays open, and it is closed once the store answers without its session', async () => {
    const browser = await stack.loginAs('alice');
    const cookie = sessionCookie(browser);
    const socket = await opened(connect('/api/live/outage', { cookie }));
    const socketClosed = closed(socket);
    const failedChecks = () => stack.logs.filter((line) => line.includes('websocket session check failed')).length;
    const before = failedChecks();
    await stack.redis.kill();
    expectRefusal(await refusedHandshake(connect('/api/live/outage', { cookie })), 503, 'session_store_unavailable');
    await waitFor(() => failedChecks() > before);
    socket.send('still open');
    expect(await nextMessage(socket)).toBe('echo:still open');
    // Back, but empty (it keeps nothing on disk): the session is gone, and so is its WebSocket.
    await stack.redis.restart();
    expect(await socketClosed).toEqual(SESSION_ENDED);
  });
});
