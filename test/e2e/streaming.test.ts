import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Client } from 'undici';
import { type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// Streams through the real gateway: responses that arrive bit by bit, stay open, or fail halfway, and
// clients that leave halfway. The upstream is scripted by each test; ordering, never timing, is asserted.

const CSRF = { 'x-csrf': '1' } as const;
/** The stream route's time to response headers: a stream that stays active must outlive it many times over. */
const TIME_TO_HEADERS_MS = 200;
const IDLE_MS = 400;

type Handler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

let handler: Handler;
let upstream: Server;
let stack: GatewayStack;
let gateway: Client;

beforeAll(async () => {
  upstream = createServer((request, response) => void handler(request, response));
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  stack = await startGatewayStack({
    routes: () => [
      { prefix: '/api/stream', target, token: 'none' },
      { prefix: '/api/short', target, token: 'none', timeoutMs: TIME_TO_HEADERS_MS, idleTimeoutMs: IDLE_MS },
    ],
  });
  gateway = new Client(stack.url);
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await stack?.stop();
  upstream?.closeAllConnections();
  upstream?.close();
});

/** When the upstream's side of the exchange closed, and whether its response or the request body had been completed. */
function closeOf(request: IncomingMessage, response: ServerResponse): Promise<{ responseFinished: boolean; requestComplete: boolean }> {
  return once(response, 'close').then(() => ({ responseFinished: response.writableFinished, requestComplete: request.complete }));
}

describe('responses', () => {
  it.each(['text/event-stream', 'application/x-ndjson'])(
    'a %s response reaches the client event by event, before the upstream has finished',
    async (type) => {
      const go = deferred();
      let upstreamFinished = false;
      handler = async (_request, response) => {
        response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
        response.write('event 1\n\n');
        await go.promise;
        response.write('event 2\n\n');
        upstreamFinished = true;
        response.end();
      };
      const response = await gateway.request({ path: '/api/stream/events', method: 'GET', headers: CSRF });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe(type);
      const chunks = response.body[Symbol.asyncIterator]();
      expect(String((await chunks.next()).value)).toBe('event 1\n\n');
      // The upstream only goes on once the client has the first event: a gateway that buffered would never deliver it.
      expect(upstreamFinished).toBe(false);
      go.resolve();
      let rest = '';
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest += String(next.value);
      expect(rest).toBe('event 2\n\n');
      expect(upstreamFinished).toBe(true);
    },
  );

  it("is not cut by the route's timeoutMs, which only bounds the wait for its headers, while it stays active", async () => {
    const events = 12;
    handler = async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      // Together many times TIME_TO_HEADERS_MS, but each gap well within IDLE_MS.
      for (let index = 0; index < events && !response.destroyed; index++) {
        response.write(`data: ${index}\n\n`);
        await new Promise((resolve) => setTimeout(resolve, TIME_TO_HEADERS_MS / 2));
      }
      response.end();
    };
    const response = await gateway.request({ path: '/api/short/events', method: 'GET', headers: CSRF });
    expect(response.statusCode).toBe(200);
    const text = await response.body.text();
    expect(text).toBe(Array.from({ length: events }, (_, index) => `data: ${index}\n\n`).join(''));
  });

  it('is cut off once silent for longer than idleTimeoutMs, and the upstream request is cancelled', async () => {
    const closed = deferred<{ responseFinished: boolean }>();
    handler = (request, response) => {
      void closeOf(request, response).then(closed.resolve);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 0\n\n');
    };
    const response = await gateway.request({ path: '/api/short/events', method: 'GET', headers: CSRF });
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
    expect(await closed.promise).toMatchObject({ responseFinished: false });
  });
});

describe('uploads', () => {
  it.each([
    ['chunked', false],
    ['with a Content-Length', true],
  ])("a slow upload (%s) is not cut by the route's timeoutMs while it keeps coming", async (_, declared) => {
    handler = async (request, response) => {
      let bytes = 0;
      for await (const chunk of request) bytes += (chunk as Buffer).length;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes }));
    };
    // Larger than the 64 KiB the gateway would hold for a retry, so that it streams; sent over many times TIME_TO_HEADERS_MS.
    const chunks = 12;
    const chunkSize = 8000;
    const body = Readable.from(
      (async function* () {
        for (let index = 0; index < chunks; index++) {
          yield Buffer.alloc(chunkSize, index);
          await new Promise((resolve) => setTimeout(resolve, TIME_TO_HEADERS_MS / 2));
        }
      })(),
    );
    const headers = {
      ...CSRF,
      'content-type': 'application/octet-stream',
      ...(declared ? { 'content-length': String(chunks * chunkSize) } : {}),
    };
    const response = await gateway.request({ path: '/api/short/upload', method: 'PUT', headers, body });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toEqual({ bytes: chunks * chunkSize });
  });
});

describe('a client that goes away', () => {
  it('mid-response cancels the upstream request', async () => {
    const closed = deferred<{ responseFinished: boolean }>();
    handler = (request, response) => {
      void closeOf(request, response).then(closed.resolve);
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.write(Buffer.alloc(1024, 1));
    };
    const response = await gateway.request({ path: '/api/stream/download', method: 'GET', headers: CSRF });
    await response.body[Symbol.asyncIterator]().next();
    response.body.destroy();
    expect(await closed.promise).toEqual({ responseFinished: false, requestComplete: true });
  });

  it('mid-upload cancels the upstream request', async () => {
    const firstChunk = deferred();
    const closed = deferred<{ requestComplete: boolean }>();
    handler = (request, response) => {
      void closeOf(request, response).then(closed.resolve);
      request.once('data', () => firstChunk.resolve());
    };
    const aborted = new AbortController();
    // One chunk, then a body that never ends.
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(64 * 1024, 2));
    const call = gateway.request({
      path: '/api/stream/upload',
      method: 'PUT',
      headers: { ...CSRF, 'content-type': 'application/octet-stream' },
      body,
      signal: aborted.signal,
    });
    await firstChunk.promise;
    aborted.abort();
    await expect(call).rejects.toThrow();
    expect(await closed.promise).toMatchObject({ requestComplete: false });
  });
});

describe('an upstream that resets the connection', () => {
  it('before its response headers: the client gets 502 upstream_unavailable as JSON', async () => {
    handler = (request) => {
      request.socket.resetAndDestroy();
    };
    const response = await gateway.request({ path: '/api/stream/x', method: 'GET', headers: CSRF });
    expect(response.statusCode).toBe(502);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(await response.body.json()).toEqual({
      error: 'upstream_unavailable',
      message: expect.any(String),
      requestId: response.headers['x-request-id'],
    });
  });

  it('in the middle of a chunked response: the client response is terminated, never completed as if whole', async () => {
    handler = (request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: 0\n\n', () => setImmediate(() => request.socket.resetAndDestroy()));
    };
    const response = await gateway.request({ path: '/api/stream/events', method: 'GET', headers: CSRF });
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
  });
});
