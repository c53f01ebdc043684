import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'undici';
import { type ApiRoute, ConfigModule, loadConfig } from '#sessiongate/config';
import { GatewayMetrics } from '#sessiongate/metrics';
import { ErrorCode, GatewayError, TelemetryModule } from '#sessiongate/observability';
import {
  type AuthorizedRequest,
  type AuthorizeOptions,
  BearerCredential,
  ProxyModule,
  type UpgradeGrant,
  type UpstreamAuthorizer,
  type UpstreamCredential,
} from '#sessiongate/proxy';
import { StepUpError } from '#sessiongate/step-up';
import { type EchoApi, freePort, startEchoApi } from '#sessiongate/testing';

const TOKEN = 'upstream-access-token';
const RENEWED = 'renewed-access-token';
const UPSTREAM_TIMEOUT_MS = 1000;

/** Every call to the authorizer, in order: its `rejectedToken` (undefined on a first call). */
const authorizations: (string | undefined)[] = [];

/**
 * Stands in for the tokens lib: a fixed token on `user` routes, a refusal when asked to, and, once the
 * upstream refused a token, a renewed one, unless `x-test-renewal` asks for the same token again or for
 * an expired session.
 */
@Injectable()
class TestAuthorizer implements UpstreamAuthorizer {
  async authorize(request: AuthorizedRequest, route: ApiRoute, options: AuthorizeOptions = {}): Promise<UpstreamCredential | undefined> {
    authorizations.push(options.stepUp ? 'step-up' : options.rejectedToken);
    if (request.headers['x-test-refuse'] !== undefined) throw new GatewayError(ErrorCode.Unauthenticated);
    // As UserTokenAuthorizer answers an upstream's RFC 9470 challenge.
    if (options.stepUp) throw StepUpError.required(options.stepUp, 'upstream challenge');
    if (options.rejectedToken === undefined) return route.token === 'user' ? new BearerCredential(TOKEN) : undefined;
    const renewal = request.headers['x-test-renewal'];
    if (renewal === 'same') return new BearerCredential(options.rejectedToken);
    if (renewal === 'expired') throw new GatewayError(ErrorCode.SessionExpired);
    return new BearerCredential(RENEWED);
  }

  async authorizeUpgrade(_request: IncomingMessage, route: ApiRoute): Promise<UpgradeGrant> {
    return { credential: route.token === 'user' ? new BearerCredential(TOKEN) : undefined, session: undefined };
  }

  /** No sessions here to watch. */
  watchSessions(): void {}
}

@Module({ providers: [TestAuthorizer], exports: [TestAuthorizer] })
class TestAuthorizerModule {}

/** An upstream that misbehaves on purpose: `/hang` never answers, `/broken` drops the connection mid-body. */
function startMisbehavingApi(): { server: Server; hangArrived: Promise<void>; hangClosed: Promise<void> } {
  let arrived!: () => void;
  let closed!: () => void;
  const hangArrived = new Promise<void>((resolve) => (arrived = resolve));
  const hangClosed = new Promise<void>((resolve) => (closed = resolve));
  const server = createServer((request, response) => {
    if (request.url === '/hang') {
      response.on('close', closed);
      arrived();
    } else {
      response.writeHead(200, { 'content-length': '1000' });
      response.write('partial');
      setTimeout(() => response.socket?.destroy(), 50);
    }
  });
  server.listen(0, '127.0.0.1');
  return { server, hangArrived, hangClosed };
}

let echo: EchoApi;
let misbehaving: ReturnType<typeof startMisbehavingApi>;
let app: NestFastifyApplication;
let gateway: Client;

beforeAll(async () => {
  echo = await startEchoApi();
  misbehaving = startMisbehavingApi();
  await once(misbehaving.server, 'listening');
  const misbehavingPort = (misbehaving.server.address() as AddressInfo).port;
  const config = loadConfig({
    PUBLIC_URL: 'https://app.example.com',
    OIDC_ISSUER: 'http://127.0.0.1:1/',
    OIDC_CLIENT_ID: 'gateway',
    OIDC_CLIENT_SECRET: 'gateway-secret',
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    API_ROUTES: JSON.stringify([
      { prefix: '/api/todos', target: `${echo.url}/v1` },
      { prefix: '/api/todos/archive', target: `${echo.url}/archive/` },
      { prefix: '/api/public', target: echo.url, token: 'none' },
      { prefix: '/api/down', target: `http://127.0.0.1:${await freePort()}` },
      { prefix: '/api/misbehaving', target: `http://127.0.0.1:${misbehavingPort}` },
      { prefix: '/api/limited', target: echo.url, token: 'none', maxBodyBytes: 1000, timeoutMs: 100, allowSetCookie: true },
    ]),
  });

  @Module({
    imports: [
      ConfigModule.forRoot(config),
      TelemetryModule.forRoot(new GatewayMetrics(config.routes)),
      ProxyModule.forRoot({ imports: [TestAuthorizerModule], authorizer: TestAuthorizer }),
    ],
  })
  class AppModule {}

  app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
  await app.init();
  await app.listen(0, '127.0.0.1');
  gateway = new Client(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
});

afterAll(async () => {
  await gateway?.close();
  await app?.close();
  await echo?.stop();
  misbehaving?.server.closeAllConnections();
  misbehaving?.server.close();
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** Sends `path` exactly as written: no client-side URL normalisation. */
async function call(
  path: string,
  options: { method?: 'GET' | 'HEAD' | 'POST' | 'PUT'; headers?: Record<string, string>; body?: string | Readable } = {},
): Promise<Answer> {
  const response = await gateway.request({ path, method: options.method ?? 'GET', headers: options.headers, body: options.body });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

function lastSeen() {
  return echo.requests.at(-1)!;
}

function expectJsonError(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  expect(body).toEqual({ error: code, message: expect.any(String), requestId: expect.any(String) });
  expect(answer.text).not.toMatch(/\bat .*:\d+|stack/i);
  expect(answer.text).not.toContain(TOKEN);
  expect(answer.text).not.toContain(RENEWED);
}

describe('the /api proxy', () => {
  it('maps the path onto the route target with its base path, and keeps the query', async () => {
    const answer = await call('/api/todos/7?x=1&next=%2F..%2Fa');
    expect(answer.status).toBe(200);
    expect(lastSeen()).toMatchObject({ method: 'GET', url: '/v1/7?x=1&next=%2F..%2Fa' });
    expect(JSON.parse(answer.text)).toMatchObject({ url: '/v1/7?x=1&next=%2F..%2Fa' });

    await call('/api/todos');
    expect(lastSeen().url).toBe('/v1');
    await call('/api/todos/archive/3');
    expect(lastSeen().url).toBe('/archive/3');
  });

  it('sends the bearer token and the forwarding facts, and none of the browser credentials or spoofed facts', async () => {
    await call('/api/todos/me', {
      headers: {
        cookie: '__Host-sessiongate=secret',
        authorization: 'Bearer from-the-browser',
        'x-csrf': '1',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-host': 'evil.example',
        forwarded: 'for=6.6.6.6',
        'x-real-ip': '6.6.6.6',
        'accept-language': 'de',
      },
    });
    const { headers } = lastSeen();
    expect(headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(headers).not.toHaveProperty('cookie');
    expect(headers).not.toHaveProperty('x-csrf');
    expect(headers).not.toHaveProperty('forwarded');
    expect(headers).not.toHaveProperty('x-real-ip');
    expect(headers['x-forwarded-for']).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('app.example.com');
    expect(headers.host).toBe(`127.0.0.1:${echo.port}`);
    expect(headers['accept-language']).toBe('de');
  });

  it('sends no authorization on a route without a token', async () => {
    await call('/api/public/info', { headers: { authorization: 'Bearer from-the-browser' } });
    expect(lastSeen().url).toBe('/info');
    expect(lastSeen().headers).not.toHaveProperty('authorization');
  });

  it('streams request bodies through intact, with a length or chunked', async () => {
    const json = JSON.stringify({ title: 'écrire', done: false });
    const small = await call('/api/todos', { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    expect(small.status).toBe(200);
    expect(lastSeen()).toMatchObject({ method: 'POST', body: json });
    expect(lastSeen().headers['content-type']).toBe('application/json');

    const large = randomBytes(3.75 * 1024 * 1024).toString('base64');
    const chunks = large.match(/.{1,65536}/g)!;
    const answer = await call('/api/todos/upload', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: Readable.from(chunks),
    });
    expect(answer.status).toBe(200);
    expect(lastSeen().body.length).toBe(large.length);
    expect(lastSeen().body === large).toBe(true);
    expect(lastSeen().headers['transfer-encoding']).toBe('chunked');
  });

  it('accepts a body sent after "Expect: 100-continue"', async () => {
    const { port } = app.getHttpServer().address() as AddressInfo;
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/todos',
      headers: { expect: '100-continue', 'content-length': '5' },
    });
    request.on('continue', () => request.end('hello'));
    const [response] = (await once(request, 'response')) as [NodeJS.ReadableStream & { statusCode: number }];
    response.resume();
    expect(response.statusCode).toBe(200);
    expect(lastSeen().body).toBe('hello');
  });

  it('passes status and headers through, without the upstream cookies', async () => {
    const answer = await call('/api/todos/status/201');
    expect(answer.status).toBe(201);
    expect(answer.headers['x-echo']).toBe('yes');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers).not.toHaveProperty('set-cookie');

    const head = await call('/api/todos/status/200', { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, text: '' });
    expect(lastSeen().method).toBe('HEAD');
  });

  it('does not follow redirects', async () => {
    const before = echo.requests.length;
    const answer = await call('/api/todos/status/302');
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe('/elsewhere');
    expect(echo.requests.length).toBe(before + 1);
  });

  it.each([
    '/api/todos/../admin',
    '/api/todos/%2e%2e/admin',
    '/api/todos/%2E%2E/admin',
    '/api/todos/..%2fadmin',
    '/api/todos/a%2Fb',
    '/api/todos/%252e%252e/admin',
    '/api/todos/..\\admin',
    '/api/todos/a%00b',
    '/api/todos/..;/admin',
    '/api/todos//admin',
  ])('refuses %s with 400 before it reaches the upstream', async (path) => {
    const before = echo.requests.length;
    expectJsonError(await call(path), 400, 'bad_path');
    expect(echo.requests.length).toBe(before);
  });

  it.each(['/api', '/api/unknown/1', '/api/todosX', '/api/todosX/1'])('answers 404 no_route for %s', async (path) => {
    expectJsonError(await call(path), 404, 'no_route');
  });

  it("answers with the authorizer's error and calls no upstream when it refuses", async () => {
    const before = echo.requests.length;
    expectJsonError(await call('/api/todos/1', { headers: { 'x-test-refuse': '1' } }), 401, 'unauthenticated');
    expect(echo.requests.length).toBe(before);
  });

  it('answers 502 when the upstream is down', async () => {
    expectJsonError(await call('/api/down/1'), 502, 'upstream_unavailable');
  });

  it('answers 504 when the upstream is too slow', async () => {
    const started = Date.now();
    expectJsonError(await call(`/api/todos/slow?ms=${UPSTREAM_TIMEOUT_MS * 3}`), 504, 'upstream_timeout');
    expect(Date.now() - started).toBeLessThan(UPSTREAM_TIMEOUT_MS * 2);
  });

  it('drops the connection when the upstream fails after the response started', async () => {
    const response = await gateway.request({ path: '/api/misbehaving/broken', method: 'GET' });
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
  });

  it('cancels the upstream request when the client goes away', async () => {
    const aborted = new AbortController();
    const response = gateway.request({ path: '/api/misbehaving/hang', method: 'GET', signal: aborted.signal });
    await misbehaving.hangArrived;
    const abortedAt = Date.now();
    aborted.abort();
    await expect(response).rejects.toThrow();
    await misbehaving.hangClosed;
    expect(Date.now() - abortedAt).toBeLessThan(UPSTREAM_TIMEOUT_MS / 2);
  });
});

describe('a 401 from the upstream', () => {
  const revoked = `/api/todos/reject-token?token=${TOKEN}`;
  let before: number;
  beforeEach(() => {
    before = echo.requests.length;
    authorizations.length = 0;
  });
  const seen = () => echo.requests.slice(before);

  it('is not awaited on a success: one authorization, one upstream request', async () => {
    expect((await call('/api/todos/1')).status).toBe(200);
    expect(seen()).toHaveLength(1);
    expect(authorizations).toEqual([undefined]);
  });

  it('makes the proxy ask for another token once and retry a GET with it', async () => {
    const answer = await call(revoked);
    expect(answer.status).toBe(200);
    expect(seen().map((request) => [request.method, request.url, request.headers.authorization])).toEqual([
      ['GET', '/v1/reject-token?token=upstream-access-token', `Bearer ${TOKEN}`],
      ['GET', '/v1/reject-token?token=upstream-access-token', `Bearer ${RENEWED}`],
    ]);
    expect(authorizations).toEqual([undefined, TOKEN]);
  });

  it('is retried once only: the second 401 goes to the client as it is', async () => {
    const answer = await call('/api/todos/status/401');
    expect(answer.status).toBe(401);
    expect(answer.headers['x-echo']).toBe('yes');
    expect(JSON.parse(answer.text)).toMatchObject({ url: '/v1/status/401', headers: { authorization: `Bearer ${RENEWED}` } });
    expect(seen()).toHaveLength(2);
    expect(authorizations).toEqual([undefined, TOKEN]);
  });

  it('retries a small body identically', async () => {
    const json = JSON.stringify({ title: 'écrire', done: false });
    const answer = await call(revoked, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    expect(answer.status).toBe(200);
    expect(seen()).toHaveLength(2);
    for (const request of seen()) {
      expect(request).toMatchObject({ method: 'POST', body: json });
      expect(request.headers['content-length']).toBe(String(Buffer.byteLength(json)));
      expect(request.headers['content-type']).toBe('application/json');
    }
    expect(seen()[1]!.headers.authorization).toBe(`Bearer ${RENEWED}`);
  });

  it.each([
    ['larger than 64 KiB', () => 'x'.repeat(64 * 1024 + 1)],
    ['chunked', () => Readable.from(['{"a":', '1}'])],
  ])('passes through without a retry when the body is %s, which streams', async (_, body) => {
    const answer = await call(revoked, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: body() });
    expect(answer.status).toBe(401);
    expect(seen()).toHaveLength(1);
    expect(authorizations).toEqual([undefined]);
  });

  it('passes through without a retry when the authorizer has no other token, with its body', async () => {
    const answer = await call(revoked, { headers: { 'x-test-renewal': 'same' } });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text)).toMatchObject({ url: '/v1/reject-token?token=upstream-access-token' });
    expect(seen()).toHaveLength(1);
    expect(authorizations).toEqual([undefined, TOKEN]);
  });

  it("answers with the authorizer's error when it refuses the retry", async () => {
    expectJsonError(await call(revoked, { headers: { 'x-test-renewal': 'expired' } }), 401, 'session_expired');
    expect(seen()).toHaveLength(1);
    expect(authorizations).toEqual([undefined, TOKEN]);
  });

  const challenge = `www-authenticate=${encodeURIComponent('Bearer error="insufficient_user_authentication", acr_values="urn:x:loa:2", max_age=60')}`;

  it.each([
    ['a GET', {}],
    ['a chunked body, which could not be sent again', { method: 'POST' as const, body: Readable.from(['{"a":', '1}']) }],
  ])(
    'asking for a step-up (insufficient_user_authentication) is never retried, for %s: the authorizer answers step_up_required',
    async (_, request) => {
      const answer = await call(`/api/todos/status/401?${challenge}`, request);
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toEqual({
        error: 'step_up_required',
        message: expect.any(String),
        requestId: expect.any(String),
        loginUrl: '/bff/login?acr_values=urn%3Ax%3Aloa%3A2&max_age=60&returnTo=%2F',
      });
      expect(answer.headers['x-echo']).toBeUndefined();
      expect(seen()).toHaveLength(1);
      expect(authorizations).toEqual([undefined, 'step-up']);
    },
  );

  it('is passed through on a route without a token', async () => {
    const answer = await call('/api/public/status/401');
    expect(answer.status).toBe(401);
    expect(seen()).toHaveLength(1);
    expect(authorizations).toEqual([undefined]);
  });
});

describe('per-route limits', () => {
  it('refuses a declared body over maxBodyBytes with 413 before calling the upstream', async () => {
    const before = echo.requests.length;
    expectJsonError(
      await call('/api/limited/upload', {
        method: 'POST',
        headers: { 'x-csrf': '1', 'content-type': 'text/plain' },
        body: 'x'.repeat(1001),
      }),
      413,
      'payload_too_large',
    );
    expect(echo.requests.length).toBe(before);
  });

  it('cuts off a chunked body as soon as it passes maxBodyBytes', async () => {
    const chunks = Readable.from([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')]);
    const answer = await call('/api/limited/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: chunks,
    });
    expectJsonError(answer, 413, 'payload_too_large');
  });

  it('forwards a body within the limit', async () => {
    const answer = await call('/api/limited/upload', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(1000) });
    expect(answer.status).toBe(200);
    expect(lastSeen().body).toBe('x'.repeat(1000));
  });

  it('uses the route timeout over the global one', async () => {
    expectJsonError(await call('/api/limited/slow?ms=1500'), 504, 'upstream_timeout');
  });

  it('lets the upstream set cookies only where the route allows it', async () => {
    expect((await call('/api/limited/anything')).headers['set-cookie']).toBeDefined();
    expect((await call('/api/public/anything')).headers['set-cookie']).toBeUndefined();
  });
});
