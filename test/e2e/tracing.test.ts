import pino from 'pino';
import { type RunningGateway, startGateway } from '#sessiongate/gateway';
import { loadConfig } from '#sessiongate/config';
import {
  type BrowserClient,
  freePort,
  GATEWAY_CLIENT_SECRET,
  gatewayClientBasicAuth,
  type GatewayStack,
  leakedSecrets,
  type OtlpReceiver,
  type ReceivedSpan,
  startGatewayStack,
  startOtlpReceiver,
} from '#sessiongate/testing';

// The real gateway exporting to a real OTLP/HTTP receiver (node:http, decoding the JSON the SDK posts),
// with a real Redis, oidc-provider and echo API. Each instance has a service name of its own, so that
// the spans of one are told from the others' in the one receiver.

const CSRF = { 'x-csrf': '1' } as const;
const INCOMING_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const INCOMING_PARENT_ID = 'b7ad6b7169203331';
const INCOMING = { traceparent: `00-${INCOMING_TRACE_ID}-${INCOMING_PARENT_ID}-01`, tracestate: 'vendor=opaque' } as const;
/** What the W3C header carries: version, trace id, parent id, flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

let receiver: OtlpReceiver;
let stack: GatewayStack;
/** Refreshes on every call (a refresh skew longer than any token's life). */
let refreshing: string;
let trusting: string;
const secrets: string[] = [GATEWAY_CLIENT_SECRET, gatewayClientBasicAuth()];
const extraGateways: RunningGateway[] = [];

interface Login {
  readonly browser: BrowserClient;
  readonly cookie: string;
  readonly publicId: string;
}
let alice: Login;

async function login(username: string): Promise<Login> {
  const browser = stack.browser();
  const landing = await browser.login(stack.url, { username, password: username });
  const callback = landing.redirects.map((hop) => new URL(hop.location, hop.url)).find((url) => url.pathname === '/bff/callback')!;
  secrets.push(callback.searchParams.get('code')!, callback.searchParams.get('state')!);
  const cookie = browser.cookies(stack.url)[stack.config.session.cookieName]!;
  secrets.push(cookie);
  const page = await browser.get(`${stack.url}/bff/sessions`, { headers: CSRF, from: stack.url });
  const { sessions } = page.json<{ sessions: { id: string; current: boolean }[] }>();
  return { browser, cookie, publicId: sessions.find((session) => session.current)!.id };
}

function call(base: string, path: string, headers: Record<string, string> = {}, session: Login | null = alice): Promise<Response> {
  const cookie: Record<string, string> = session ? { cookie: `${stack.config.session.cookieName}=${session.cookie}` } : {};
  return fetch(`${base}${path}`, { headers: { ...CSRF, ...cookie, ...headers } });
}

/** The SERVER span of the request that was answered with this `x-request-id`, and the rest of its trace. */
async function traceOf(response: Response, service = 'sessiongate-test'): Promise<{ root: ReceivedSpan; trace: ReceivedSpan[] }> {
  const requestId = response.headers.get('x-request-id')!;
  const isRoot = (span: ReceivedSpan) => span.service === service && span.attributes['sessiongate.request_id'] === requestId;
  const spans = await receiver.waitFor((received) => received.some(isRoot));
  const root = spans.find(isRoot)!;
  // Children end before their request does, so they arrived in the same export or an earlier one.
  return { root, trace: spans.filter((span) => span.traceId === root.traceId) };
}

function childrenOf(parent: ReceivedSpan, trace: readonly ReceivedSpan[]): ReceivedSpan[] {
  return trace.filter((span) => span.parentSpanId === parent.spanId);
}

function servicesSpans(service: string): ReceivedSpan[] {
  return receiver.spans.filter((span) => span.service === service);
}

async function extraInstance(env: Record<string, string>): Promise<string> {
  const gateway = await startGateway(loadConfig({ ...stack.env, PORT: String(await freePort()), ...env }), {
    logger: pino({ level: 'silent' }),
  });
  extraGateways.push(gateway);
  return gateway.url;
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const nothingListening = await freePort();
  stack = await startGatewayStack({
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'sessiongate-test', OTEL_BSP_SCHEDULE_DELAY: '50' },
    routes: ({ echo }) => [
      { prefix: '/api/client', target: echo, token: 'client' },
      { prefix: '/api/down', target: `http://127.0.0.1:${nothingListening}`, token: 'user' },
    ],
  });
  stack.idp.onTokenResponse = (body) => {
    for (const name of ['access_token', 'refresh_token', 'id_token']) if (typeof body[name] === 'string') secrets.push(body[name]);
  };
  refreshing = await stack.startInstance({ TOKEN_REFRESH_SKEW: '86400', OTEL_SERVICE_NAME: 'sessiongate-refreshing' });
  trusting = await stack.startInstance({ OTEL_TRUST_INCOMING_TRACE: 'true', OTEL_SERVICE_NAME: 'sessiongate-trusting' });
  alice = await login('alice');
});

afterAll(async () => {
  await Promise.all(extraGateways.map((gateway) => gateway.close()));
  await stack?.stop();
  await receiver?.stop();
});

test('a login is a trace: the callback span holds the code exchange, whose traceparent reached the token endpoint', async () => {
  const spans = await receiver.waitFor((received) =>
    received.some((span) => span.attributes['sessiongate.token.grant'] === 'authorization_code'),
  );
  const exchange = spans.find((span) => span.attributes['sessiongate.token.grant'] === 'authorization_code')!;
  expect(exchange).toMatchObject({ name: 'oidc.token', kind: 'client', attributes: { 'sessiongate.outcome': 'ok' } });
  const callback = spans.find((span) => span.spanId === exchange.parentSpanId)!;
  expect(callback).toMatchObject({
    name: 'GET /bff/callback',
    kind: 'server',
    attributes: { 'http.request.method': 'GET', 'http.route': '/bff/callback', 'http.response.status_code': 302 },
  });
  const sent = stack.idp.tokenRequests.find((request) => request.grantType === 'authorization_code')!;
  expect(sent.traceparent).toBe(`00-${exchange.traceId}-${exchange.spanId}-01`);
});

test('an /api call: the request span, its session read and upstream call, and the traceparent the API got', async () => {
  stack.echo.requests.length = 0;
  const response = await call(stack.url, '/api/echo/items/42?filter=secret-query-value');
  expect(response.status).toBe(200);
  secrets.push('secret-query-value', stack.echo.requests[0]!.headers.authorization as string);
  const { root, trace } = await traceOf(response);
  expect(root).toMatchObject({
    name: 'GET /api/echo',
    kind: 'server',
    parentSpanId: undefined,
    status: 0,
    attributes: {
      'http.request.method': 'GET',
      'http.route': '/api/echo',
      'http.response.status_code': 200,
      'sessiongate.session.public_id': alice.publicId,
    },
  });
  expect(root.attributes['error.type']).toBeUndefined();
  const children = childrenOf(root, trace);
  expect(children.map((span) => span.name).sort()).toEqual(['GET /api/echo', 'session.read']);
  const read = children.find((span) => span.name === 'session.read')!;
  expect(read).toMatchObject({ kind: 'internal', attributes: { 'sessiongate.outcome': 'found' } });
  expect(['memory', 'store']).toContain(read.attributes['sessiongate.session.source']);
  const upstream = children.find((span) => span.kind === 'client')!;
  expect(upstream.attributes).toEqual({
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'server.address': '127.0.0.1',
    'server.port': stack.echo.port,
    'sessiongate.api_route': '/api/echo',
  });
  expect(stack.echo.requests[0]!.headers.traceparent).toBe(`00-${root.traceId}-${upstream.spanId}-01`);
  expect(stack.echo.requests[0]!.headers.tracestate).toBeUndefined();
});

test('a refresh: the lock wait and the refresh are children of the request, and the provider got the refresh span as parent', async () => {
  stack.idp.tokenRequests.length = 0;
  const response = await call(refreshing, '/api/echo/refreshed');
  expect(response.status).toBe(200);
  const { root, trace } = await traceOf(response, 'sessiongate-refreshing');
  const names = childrenOf(root, trace).map((span) => span.name);
  expect(names).toEqual(expect.arrayContaining(['session.read', 'refresh_lock.wait', 'oidc.token', 'GET /api/echo']));
  const lock = trace.find((span) => span.name === 'refresh_lock.wait')!;
  expect(lock.attributes).toEqual({ 'sessiongate.outcome': 'ok' });
  const refresh = trace.find((span) => span.name === 'oidc.token')!;
  expect(refresh).toMatchObject({
    kind: 'client',
    parentSpanId: root.spanId,
    attributes: { 'sessiongate.token.grant': 'refresh_token', 'sessiongate.outcome': 'ok' },
  });
  const sent = stack.idp.tokenRequests.find((request) => request.grantType === 'refresh_token')!;
  expect(sent.traceparent).toBe(`00-${root.traceId}-${refresh.spanId}-01`);
});

test('a client-credentials token is a child of its request', async () => {
  const response = await call(stack.url, '/api/client/x');
  expect(response.status).toBe(200);
  const { root, trace } = await traceOf(response);
  // The first call to a client route (none before in this suite) fetches the gateway's own token.
  const token = childrenOf(root, trace).find((span) => span.name === 'oidc.token');
  expect(token?.attributes).toEqual({ 'sessiongate.token.grant': 'client_credentials', 'sessiongate.outcome': 'ok' });
  expect(childrenOf(root, trace).some((span) => span.kind === 'client' && span.attributes['sessiongate.api_route'] === '/api/client')).toBe(
    true,
  );
});

test('a retry after the API refused the token is a second upstream span with its resend count', async () => {
  stack.echo.requests.length = 0;
  expect((await call(stack.url, '/api/echo/first')).status).toBe(200);
  const token = (stack.echo.requests[0]!.headers.authorization as string).slice('Bearer '.length);
  // The echo API answers 401 to exactly this token: the gateway refreshes and sends the request again.
  const response = await call(stack.url, `/api/echo/reject-token?token=${encodeURIComponent(token)}`);
  expect(response.status).toBe(200);
  const { root, trace } = await traceOf(response);
  const attempts = childrenOf(root, trace).filter((span) => span.kind === 'client' && span.name === 'GET /api/echo');
  expect(attempts.map((span) => [span.attributes['http.response.status_code'], span.attributes['http.request.resend_count']])).toEqual([
    [401, undefined],
    [200, 1],
  ]);
  expect(attempts[0]).toMatchObject({ status: 2, attributes: { 'error.type': '401' } });
  expect(childrenOf(root, trace).some((span) => span.attributes['sessiongate.token.grant'] === 'refresh_token')).toBe(true);
});

test('refusals and failures carry the error code, a 5xx also the error status', async () => {
  const refused = await call(stack.url, '/api/echo/x', {}, null);
  expect(refused.status).toBe(401);
  const { root: unauthenticated } = await traceOf(refused);
  expect(unauthenticated.attributes).toMatchObject({ 'http.response.status_code': 401, 'error.type': 'unauthenticated' });
  expect(unauthenticated.status).toBe(0);

  const down = await call(stack.url, '/api/down/x');
  expect(down.status).toBe(502);
  const { root, trace } = await traceOf(down);
  expect(root).toMatchObject({ status: 2, attributes: { 'http.response.status_code': 502, 'error.type': 'upstream_unavailable' } });
  expect(childrenOf(root, trace).find((span) => span.kind === 'client')).toMatchObject({
    status: 2,
    attributes: { 'error.type': 'upstream_unavailable' },
  });

  const unknown = await call(stack.url, '/api/nowhere/123?x=1');
  const { root: noRoute } = await traceOf(unknown);
  expect(noRoute.attributes['http.route']).toBe('/api/*');
  expect(noRoute.name).toBe('GET /api/*');
});

test('a /bff route is named as declared, never by its path', async () => {
  const response = await alice.browser.request('DELETE', `${stack.url}/bff/sessions/not-a-session-${'9'.repeat(20)}`, {
    headers: CSRF,
    from: stack.url,
  });
  const requestId = response.headers.get('x-request-id')!;
  const spans = await receiver.waitFor((received) => received.some((span) => span.attributes['sessiongate.request_id'] === requestId));
  const root = spans.find((span) => span.attributes['sessiongate.request_id'] === requestId)!;
  expect(root.name).toBe('DELETE /bff/sessions/:id');
  expect(root.attributes['http.route']).toBe('/bff/sessions/:id');
  expect(JSON.stringify(spans.filter((span) => span.traceId === root.traceId))).not.toContain('9'.repeat(20));
});

test('an incoming traceparent is not trusted by default: a new trace, and the API never sees what the browser sent', async () => {
  stack.echo.requests.length = 0;
  const response = await call(stack.url, '/api/echo/x', INCOMING);
  const { root, trace } = await traceOf(response);
  expect(root.traceId).not.toBe(INCOMING_TRACE_ID);
  expect(root.parentSpanId).toBeUndefined();
  const upstream = childrenOf(root, trace).find((span) => span.kind === 'client')!;
  expect(stack.echo.requests[0]!.headers.traceparent).toBe(`00-${root.traceId}-${upstream.spanId}-01`);
  expect(stack.echo.requests[0]!.headers.tracestate).toBeUndefined();
});

test('a trusted incoming traceparent is continued, its tracestate passed on', async () => {
  stack.echo.requests.length = 0;
  const response = await call(trusting, '/api/echo/x', INCOMING);
  const { root, trace } = await traceOf(response, 'sessiongate-trusting');
  expect(root).toMatchObject({ traceId: INCOMING_TRACE_ID, parentSpanId: INCOMING_PARENT_ID });
  const upstream = childrenOf(root, trace).find((span) => span.kind === 'client')!;
  expect(stack.echo.requests[0]!.headers.traceparent).toBe(`00-${INCOMING_TRACE_ID}-${upstream.spanId}-01`);
  expect(stack.echo.requests[0]!.headers.tracestate).toBe('vendor=opaque');
  // A malformed one is ignored: a new trace.
  const malformed = await call(trusting, '/api/echo/x', { traceparent: `00-${'0'.repeat(32)}-${INCOMING_PARENT_ID}-01` });
  expect((await traceOf(malformed, 'sessiongate-trusting')).root.parentSpanId).toBeUndefined();
});

describe('sampling', () => {
  /** Spans a few export periods after the calls, for an instance that is expected to send none. */
  async function settled(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  test('always_off sends nothing, yet the API still gets a traceparent (not sampled)', async () => {
    const url = await extraInstance({ OTEL_TRACES_SAMPLER: 'always_off', OTEL_SERVICE_NAME: 'sessiongate-off' });
    stack.echo.requests.length = 0;
    for (let index = 0; index < 5; index++) expect((await call(url, '/api/echo/x')).status).toBe(200);
    await settled();
    expect(servicesSpans('sessiongate-off')).toEqual([]);
    expect(stack.echo.requests[0]!.headers.traceparent).toMatch(TRACEPARENT);
    expect(TRACEPARENT.exec(String(stack.echo.requests[0]!.headers.traceparent))![3]).toBe('00');
  });

  test('traceidratio 0 sends nothing, 1 sends every request', async () => {
    const none = await extraInstance({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0', OTEL_SERVICE_NAME: 'ratio-0' });
    const all = await extraInstance({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1', OTEL_SERVICE_NAME: 'ratio-1' });
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      await call(none, '/api/echo/x');
      ids.push((await call(all, '/api/echo/x')).headers.get('x-request-id')!);
    }
    await receiver.waitFor(() =>
      ids.every((id) => servicesSpans('ratio-1').some((span) => span.attributes['sessiongate.request_id'] === id)),
    );
    await settled();
    expect(servicesSpans('ratio-0')).toEqual([]);
  });

  test('parentbased_always_off follows a trusted sampled parent, and stays off without one', async () => {
    const url = await extraInstance({
      OTEL_TRACES_SAMPLER: 'parentbased_always_off',
      OTEL_TRUST_INCOMING_TRACE: 'true',
      OTEL_SERVICE_NAME: 'sessiongate-parented',
    });
    await call(url, '/api/echo/unparented');
    const response = await call(url, '/api/echo/x', INCOMING);
    const { root } = await traceOf(response, 'sessiongate-parented');
    expect(root.traceId).toBe(INCOMING_TRACE_ID);
    await settled();
    expect(new Set(servicesSpans('sessiongate-parented').map((span) => span.traceId))).toEqual(new Set([INCOMING_TRACE_ID]));
  });
});

test('shutdown sends the spans still waiting for their batch', async () => {
  const url = await extraInstance({ OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_SERVICE_NAME: 'sessiongate-flush' });
  const response = await call(url, '/api/echo/x');
  expect(response.status).toBe(200);
  await extraGateways.pop()!.close();
  expect(
    servicesSpans('sessiongate-flush')
      .map((span) => span.name)
      .sort(),
  ).toEqual(['GET /api/echo', 'GET /api/echo', 'session.read']);
});

test('off without an endpoint: nothing sent, nothing added to what the API and the provider get', async () => {
  const url = await extraInstance({
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    TOKEN_REFRESH_SKEW: '86400',
    OTEL_SERVICE_NAME: 'sessiongate-untraced',
  });
  stack.echo.requests.length = 0;
  stack.idp.tokenRequests.length = 0;
  expect((await call(url, '/api/echo/x', INCOMING)).status).toBe(200);
  // As before tracing existed: the browser's headers pass like any other, and the refresh carries none.
  expect(stack.echo.requests[0]!.headers).toMatchObject(INCOMING);
  expect(stack.idp.tokenRequests.map((request) => [request.grantType, request.traceparent])).toEqual([['refresh_token', undefined]]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(servicesSpans('sessiongate-untraced')).toEqual([]);
});

test('no span carries a secret: cookie, tokens, code, state, client secret, query string', () => {
  expect(receiver.spans.length).toBeGreaterThan(20);
  expect(secrets.length).toBeGreaterThan(8);
  const lines = receiver.spans.map((span) => JSON.stringify({ name: span.name, attributes: span.attributes }));
  expect(leakedSecrets(lines, secrets)).toEqual([]);
  // Nor any path: span names and routes are prefixes and declared routes.
  for (const span of receiver.spans) {
    expect(span.name).not.toMatch(/\?|items\/42|refreshed|reject-token/);
    if (span.attributes['http.route'] !== undefined) expect(String(span.attributes['http.route'])).not.toMatch(/\d{2}|\?/);
  }
});
