import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import {
  forwardAuthSnippet,
  forwardAuthSnippetPath,
  freePort,
  type IngressFixture,
  type IngressKind,
  startCaddy,
  startNginx,
} from '#sessiongate/testing';

// The ingress side of forward-auth mode (issue 15), with the real nginx and caddy running the
// documented snippets. A node:http server stands in for the gateway (its SPA, /bff/* and its
// forward-auth answer, scripted per test) and another for the API, so what each ingress sends to
// which, and what the browser gets back, is pinned down before the gateway's endpoint exists.

const JSON_TYPE = 'application/json; charset=utf-8';

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface AuthAnswer {
  readonly status: number;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string;
}

interface StandIn {
  readonly address: string;
  readonly requests: Recorded[];
  readonly server: Server;
  stop(): Promise<void>;
}

async function standIn(handle: (recorded: Recorded, response: ServerResponse) => void | Promise<void>): Promise<StandIn> {
  const requests: Recorded[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const recorded = { method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString() };
    requests.push(recorded);
    await handle(recorded, response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    server,
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request with the target sent byte for byte as given (no URL normalisation on the way). */
function send(base: string, method: string, target: string, headers: OutgoingHttpHeaders = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}${target}`, { method, headers, path: target, agent: false }, async (response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString() });
    });
    request.on('error', reject);
    request.end(body);
  });
}

let nextToken = 0;
/** What the gateway says by default: yes, with a fresh token each time, plus headers no ingress may copy. */
const allow = (): AuthAnswer => {
  nextToken++;
  return {
    status: 200,
    headers: {
      authorization: `Bearer token-${nextToken}`,
      'x-request-id': `request-${nextToken}`,
      'x-not-for-the-api': 'no',
      'cache-control': 'no-store',
    },
  };
};

/** A refusal as the gateway writes it; the error header is what nginx's auth_request can carry (it drops the body). */
const refusal = (status: number, error: string): AuthAnswer => {
  const body = JSON.stringify({ error, message: `refused with ${status}`, requestId: `refused-${status}` });
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', 'x-request-id': `refused-${status}`, 'x-sessiongate-error': body },
    body,
  };
};

let answer: () => AuthAnswer = allow;
let releaseStream: (() => void) | undefined;
let gateway: StandIn;
let api: StandIn;
const sockets = new WebSocketServer({ noServer: true });
const apiHandshakes: Recorded[] = [];

beforeAll(async () => {
  gateway = await standIn((recorded, response) => {
    if (recorded.url.startsWith('/bff/forward-auth')) {
      const { status, headers, body } = answer();
      response.writeHead(status, headers).end(body);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': 'gateway' }).end('gateway');
  });
  api = await standIn(async (recorded, response) => {
    if (recorded.url.endsWith('/stream')) {
      // The second part waits until the client has read the first: a buffering ingress never delivers either.
      const released = new Promise<void>((resolve) => (releaseStream = resolve));
      response.writeHead(200, { 'content-type': 'text/event-stream', 'set-cookie': 'api=1; Path=/' });
      response.write('data: first\n\n');
      await released;
      response.end('data: second\n\n');
      return;
    }
    response
      .writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'api=1; Path=/', 'x-served-by': 'api' })
      .end(JSON.stringify(recorded));
  });
  api.server.on('upgrade', (request: IncomingMessage, socket, head) => {
    apiHandshakes.push({ method: request.method!, url: request.url!, headers: request.headers, body: '' });
    sockets.handleUpgrade(request, socket, head, (connection) =>
      connection.on('message', (data) => connection.send(`echo:${String(data)}`)),
    );
  });
});

afterAll(async () => {
  for (const client of sockets.clients) client.terminate();
  await Promise.all([gateway?.stop(), api?.stop()]);
});

beforeEach(() => {
  answer = allow;
  gateway.requests.length = 0;
  api.requests.length = 0;
  apiHandshakes.length = 0;
});

const authRequests = (): Recorded[] => gateway.requests.filter((request) => request.url.startsWith('/bff/forward-auth'));

describe('the documented snippets', () => {
  it.each(['nginx', 'caddy'] as IngressKind[])('are the %s files the fixtures run, quoted whole in docs/FORWARD-AUTH.md', (kind) => {
    const doc = readFileSync(new URL('../../docs/FORWARD-AUTH.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```\w*\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks).toContain(forwardAuthSnippet(kind));
    expect(doc).toContain(forwardAuthSnippetPath(kind));
  });
});

describe.each([
  ['nginx', startNginx],
  ['caddy', startCaddy],
] as const)('%s in front of the gateway and the API', (kind, start) => {
  let ingress: IngressFixture;

  beforeAll(async () => {
    ingress = await start({ gateway: gateway.address, api: api.address });
  });

  afterAll(async () => {
    await ingress?.stop();
  });

  it('sends the SPA and /bff/* to the gateway without asking it first', async () => {
    for (const path of ['/', '/app/index.html', '/bff/user']) {
      const reply = await send(ingress.url, 'GET', path, { cookie: 'sg=abc' });
      expect(reply).toMatchObject({ status: 200, body: 'gateway' });
    }
    expect(authRequests()).toEqual([]);
    expect(gateway.requests.map((request) => request.headers.cookie)).toEqual(['sg=abc', 'sg=abc', 'sg=abc']);
    expect(api.requests).toEqual([]);
  });

  it('never lets the browser ask the forward-auth endpoint itself (its yes carries a token)', async () => {
    for (const path of ['/bff/forward-auth', '/bff/forward-auth/', '/bff//forward-auth', '/bff/%66orward-auth', '/bff/forward-auth?x=1']) {
      const reply = await send(ingress.url, 'GET', path, {
        cookie: 'sg=abc',
        'x-csrf': '1',
        'x-original-uri': '/api/todos',
        'x-forwarded-uri': '/api/todos',
      });
      expect([path, reply.status]).toEqual([path, 404]);
    }
    expect(gateway.requests).toEqual([]);
  });

  it('sends the gateway its own original-request headers, never the browser’s', async () => {
    await send(ingress.url, 'GET', '/api/todos/7', {
      cookie: 'sg=abc',
      'x-csrf': '1',
      'x-original-uri': '/api/admin',
      'x-original-method': 'DELETE',
      'x-forwarded-uri': '/api/admin',
      'x-forwarded-method': 'DELETE',
      'x-forwarded-host': 'evil.example.com',
      'x-forwarded-proto': 'https',
    });
    const [check] = authRequests();
    const original = kind === 'nginx' ? ['x-original-uri', 'x-original-method'] : ['x-forwarded-uri', 'x-forwarded-method'];
    expect([check!.headers[original[0]!], check!.headers[original[1]!]]).toEqual(['/api/todos/7', 'GET']);
    expect(check!.headers['x-forwarded-host']).toBe(`127.0.0.1:${ingress.port}`);
    expect(check!.headers['x-forwarded-proto']).toBe('http');
  });

  it('asks the forward-auth endpoint with the original method and URI, the browser’s headers, and no body', async () => {
    const target = '/api/todos/7?x=1&y=%2Fz';
    await send(
      ingress.url,
      'POST',
      target,
      { cookie: 'sg=abc', 'x-csrf': '1', origin: 'https://app.example.com', 'content-type': 'application/json' },
      '{"title":"milk"}',
    );
    const [check] = authRequests();
    expect(authRequests()).toHaveLength(1);
    expect(check!.method).toBe('GET');
    expect(check!.url).toBe('/bff/forward-auth');
    expect(check!.body).toBe('');
    expect(check!.headers).toMatchObject({ cookie: 'sg=abc', 'x-csrf': '1', origin: 'https://app.example.com' });
    expect(check!.headers['x-forwarded-for']).toBe('127.0.0.1');
    if (kind === 'nginx') {
      expect(check!.headers).toMatchObject({ 'x-original-method': 'POST', 'x-original-uri': target });
      expect(check!.headers['content-length']).toBeUndefined();
    } else {
      expect(check!.headers).toMatchObject({ 'x-forwarded-method': 'POST', 'x-forwarded-uri': target });
    }
    expect(check!.headers).toMatchObject({ 'x-forwarded-proto': 'http', 'x-forwarded-host': `127.0.0.1:${ingress.port}` });
  });

  it('forwards to the API with the Authorization and X-Request-Id it was given, no other auth header, and no cookie', async () => {
    const target = '/api/todos/7?x=1&y=%2Fz';
    const reply = await send(
      ingress.url,
      'POST',
      target,
      {
        cookie: 'sg=abc',
        'x-csrf': '1',
        authorization: 'Bearer from-the-browser',
        'x-request-id': 'from-the-browser',
        'content-type': 'application/json',
      },
      '{"title":"milk"}',
    );
    expect(reply.status).toBe(200);
    expect(reply.headers['x-served-by']).toBe('api');
    expect(reply.headers['set-cookie']).toBeUndefined();
    const [upstream] = api.requests;
    expect(api.requests).toHaveLength(1);
    expect(upstream).toMatchObject({ method: 'POST', url: target, body: '{"title":"milk"}' });
    expect(upstream!.headers.authorization).toBe(`Bearer token-${nextToken}`);
    expect(upstream!.headers['x-request-id']).toBe(`request-${nextToken}`);
    expect(upstream!.headers['x-not-for-the-api']).toBeUndefined();
    expect(upstream!.headers.cookie).toBeUndefined();
  });

  it('sends the API no Authorization at all when the gateway answers yes without a token', async () => {
    answer = () => ({ status: 200, headers: { 'x-request-id': 'no-token' } });
    const reply = await send(ingress.url, 'GET', '/api/public', {
      cookie: 'sg=abc',
      authorization: 'Bearer from-the-browser',
      'x-request-id': 'mine',
    });
    expect(reply.status).toBe(200);
    expect(api.requests[0]!.headers.authorization).toBeUndefined();
    expect(api.requests[0]!.headers['x-request-id']).toBe('no-token');
  });

  it('asks again for every request: the answer is never cached', async () => {
    for (let index = 0; index < 3; index++) await send(ingress.url, 'GET', '/api/todos', { cookie: 'sg=abc', 'x-csrf': '1' });
    expect(authRequests()).toHaveLength(3);
    const tokens = api.requests.map((request) => request.headers.authorization);
    expect(new Set(tokens).size).toBe(3);
  });

  it.each([
    [400, 'bad_path'],
    [401, 'session_expired'],
    [403, 'csrf'],
    [404, 'no_route'],
    [405, 'method_not_allowed'],
    [429, 'too_many_requests'],
    [503, 'session_store_unavailable'],
  ])('passes a %i refusal to the browser unchanged (status, content type, body) and never calls the API', async (status, code) => {
    answer = () => refusal(status, code);
    const reply = await send(ingress.url, 'GET', '/api/todos/7', { cookie: 'sg=abc', 'x-csrf': '1' });
    const expected = refusal(status, code);
    expect(reply.status).toBe(status);
    expect(reply.headers['content-type']).toBe(JSON_TYPE);
    expect(reply.body).toBe(expected.body);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['x-request-id']).toBe(`refused-${status}`);
    expect(reply.headers.location).toBeUndefined();
    expect(reply.headers['x-sessiongate-error']).toBeUndefined();
    expect(api.requests).toEqual([]);
  });

  it.each([
    [503, 'refresh_timeout', { 'retry-after': '7' }],
    [405, 'method_not_allowed', { allow: 'GET, HEAD' }],
    [401, 'unauthenticated', { 'www-authenticate': 'Bearer' }],
  ])('passes the headers of a %i refusal on, and adds none to one without', async (status, code, extra) => {
    const refused = refusal(status, code);
    answer = () => ({ ...refused, headers: { ...refused.headers, ...extra } });
    const reply = await send(ingress.url, 'GET', '/api/todos/7', { cookie: 'sg=abc', 'x-csrf': '1' });
    expect([reply.status, reply.body]).toEqual([status, refused.body]);
    expect(reply.headers).toMatchObject(extra);
    answer = () => refusal(403, 'csrf');
    const plain = await send(ingress.url, 'GET', '/api/todos/7', { cookie: 'sg=abc', 'x-csrf': '1' });
    expect(plain.status).toBe(403);
    for (const name of ['retry-after', 'allow', 'www-authenticate']) expect(plain.headers[name]).toBeUndefined();
    expect(api.requests).toEqual([]);
  });

  it('turns any other status from the gateway into a refusal (nginx: its own 503), never a yes', async () => {
    answer = () => refusal(500, 'internal');
    const reply = await send(ingress.url, 'GET', '/api/todos/7', { cookie: 'sg=abc', 'x-csrf': '1' });
    if (kind === 'nginx') {
      expect(reply.status).toBe(503);
      expect(JSON.parse(reply.body)).toMatchObject({ error: 'gateway_unavailable' });
    } else {
      expect([reply.status, reply.body]).toEqual([500, refusal(500, 'internal').body]);
    }
    expect(reply.headers['content-type']).toBe(JSON_TYPE);
    expect(api.requests).toEqual([]);
  });

  it('refuses with a 5xx and never calls the API when the gateway cannot be reached', async () => {
    const orphan = await start({ gateway: `127.0.0.1:${await freePort()}`, api: api.address });
    try {
      const reply = await send(orphan.url, 'GET', '/api/todos/7', { cookie: 'sg=abc', 'x-csrf': '1' });
      if (kind === 'nginx') {
        expect(reply.status).toBe(503);
        expect(reply.headers['content-type']).toBe(JSON_TYPE);
        expect(JSON.parse(reply.body)).toMatchObject({ error: 'gateway_unavailable' });
      } else {
        expect(reply.status).toBe(502);
      }
      expect(api.requests).toEqual([]);
    } finally {
      await orphan.stop();
    }
  });

  it('streams a response as it comes, part by part', async () => {
    answer = allow;
    const parts: string[] = [];
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        `${ingress.url}/api/todos/stream`,
        { headers: { cookie: 'sg=abc', 'x-csrf': '1' }, agent: false },
        (response) => {
          response.setEncoding('utf8');
          response.on('data', (part: string) => {
            parts.push(part);
            if (part.includes('first')) releaseStream?.();
          });
          response.on('end', () => resolve(response.statusCode!));
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(200);
    expect(parts.join('')).toBe('data: first\n\ndata: second\n\n');
    expect(api.requests[0]!.headers.authorization).toBe(`Bearer token-${nextToken}`);
  });

  it('passes a WebSocket upgrade to the API after asking with the handshake’s headers', async () => {
    const socket = new WebSocket(`${ingress.url.replace('http', 'ws')}/api/todos/socket?room=1`, {
      headers: { cookie: 'sg=abc', origin: 'https://app.example.com' },
    });
    await once(socket, 'open');
    socket.send('hello');
    const [message] = (await once(socket, 'message')) as [Buffer];
    socket.close();
    expect(String(message)).toBe('echo:hello');
    const [check] = authRequests();
    expect(check!.method).toBe('GET');
    expect(check!.headers).toMatchObject({ cookie: 'sg=abc', origin: 'https://app.example.com' });
    expect(check!.headers['sec-websocket-key']).toEqual(expect.any(String));
    expect(check!.headers['sec-websocket-version']).toBe('13');
    // Asked as a plain GET, so the gateway's HTTP route (not its upgrade handler) answers.
    expect(check!.headers.upgrade).toBeUndefined();
    expect(kind === 'nginx' ? check!.headers['x-original-uri'] : check!.headers['x-forwarded-uri']).toBe('/api/todos/socket?room=1');
    const [handshake] = apiHandshakes;
    expect(handshake!.url).toBe('/api/todos/socket?room=1');
    expect(handshake!.headers.authorization).toBe(`Bearer token-${nextToken}`);
    expect(handshake!.headers.cookie).toBeUndefined();
  });
});
