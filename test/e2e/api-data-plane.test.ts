import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// What the /api data plane (a node:http listener in front of Fastify) meets on the wire, spoken byte
// by byte over plain sockets: pipelined requests (mixed with Fastify's), Expect: 100-continue, HEAD,
// requests Node's parser refuses, methods no route takes, and uploads the client abandons.

let stack: GatewayStack;
let port: number;
/** Uploads the sink API received, and whether each arrived whole (it reads them to their end, or to their abort). */
const uploads: { readonly url: string; complete: boolean }[] = [];
const sink = createServer((request: IncomingMessage, response) => {
  const upload = { url: request.url!, complete: false };
  uploads.push(upload);
  request.on('error', () => response.destroy());
  request.on('end', () => {
    upload.complete = true;
    response.end('{}');
  });
  request.resume();
});

beforeAll(async () => {
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  stack = await startGatewayStack({ routes: () => [{ prefix: '/api/sink', target: sinkUrl, token: 'none' }] });
  port = Number(new URL(stack.url).port);
});

afterAll(async () => {
  await stack.stop();
  sink.closeAllConnections();
  sink.close();
});

interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

function open(): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  return once(socket, 'connect').then(() => socket);
}

/** Everything the gateway sends until it closes the connection. */
async function readAll(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  await once(socket, 'close');
  return text;
}

/** Splits what arrived on one connection into its responses (bodies framed by Content-Length or chunked, without trailers). */
function responses(text: string): WireResponse[] {
  const parsed: WireResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const status = Number(statusLine.split(' ')[1]);
    rest = rest.slice(end + 4);
    let body = '';
    if (headers['transfer-encoding'] === 'chunked') {
      for (let size = Number.parseInt(rest, 16); ; size = Number.parseInt(rest, 16)) {
        rest = rest.slice(rest.indexOf('\r\n') + 2);
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
        if (size === 0) break;
      }
    } else {
      const length = status === 100 || status === 204 ? 0 : Number(headers['content-length'] ?? 0);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    parsed.push({ status, headers, body });
  }
  return parsed;
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nX-CSRF: 1\r\n${extra}\r\n`;

async function exchange(...requests: string[]): Promise<WireResponse[]> {
  const socket = await open();
  const all = readAll(socket);
  socket.write(requests.join(''));
  return responses(await all);
}

describe('the /api data plane on the wire', () => {
  test('pipelined requests, /api and Fastify mixed, are answered in order, each with its own request id', async () => {
    const answers = await exchange(
      get('/api/public/first'),
      get('/bff/user'),
      'POST /api/public/second HTTP/1.1\r\nHost: localhost\r\nX-CSRF: 1\r\nContent-Length: 5\r\n\r\nhello',
      get('/api/public/third', 'Connection: close\r\n'),
    );
    expect(answers.map(({ status }) => status)).toEqual([200, 401, 200, 200]);
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ method: 'GET', url: '/first' });
    expect(JSON.parse(answers[1]!.body)).toMatchObject({ error: 'unauthenticated' });
    expect(JSON.parse(answers[2]!.body)).toMatchObject({ method: 'POST', url: '/second', body: 'hello' });
    expect(JSON.parse(answers[3]!.body)).toMatchObject({ url: '/third' });
    expect(new Set(answers.map(({ headers }) => headers['x-request-id'])).size).toBe(4);
  });

  test('Expect: 100-continue gets its 100 before the body is sent; the upstream is not asked to continue again', async () => {
    const socket = await open();
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const closed = once(socket, 'close');
    socket.write(
      'POST /api/public/continue HTTP/1.1\r\nHost: localhost\r\nX-CSRF: 1\r\nContent-Length: 7\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    );
    while (!text.includes('\r\n\r\n')) await sleep(5);
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    socket.write('payload');
    await closed;
    const [continued, answer] = responses(text);
    expect(continued!.status).toBe(100);
    expect(answer!.status).toBe(200);
    const echoed = JSON.parse(answer!.body) as { body: string; headers: Record<string, string> };
    expect(echoed.body).toBe('payload');
    expect(echoed.headers.expect).toBeUndefined();
  });

  test('HEAD is forwarded as HEAD and answered without a body', async () => {
    const before = stack.echo.requests.length;
    const socket = await open();
    const all = readAll(socket);
    socket.write('HEAD /api/public/head HTTP/1.1\r\nHost: localhost\r\nX-CSRF: 1\r\nConnection: close\r\n\r\n');
    const text = await all;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.endsWith('\r\n\r\n')).toBe(true);
    expect(stack.echo.requests[before]).toMatchObject({ method: 'HEAD', url: '/head' });
  });

  test('a malformed request line and headers over the limit get the error shape from the parser, and the connection is closed', async () => {
    const [malformed] = await exchange('GET /api/public/x HTTP/1.1 extra\r\nHost: localhost\r\n\r\n');
    expect(malformed!.status).toBe(400);
    expect(JSON.parse(malformed!.body)).toMatchObject({ error: 'bad_request', requestId: expect.any(String) });
    const [tooLarge] = await exchange(get('/api/public/x', `X-Big: ${'a'.repeat(20_000)}\r\n`));
    expect(tooLarge!.status).toBe(431);
    expect(JSON.parse(tooLarge!.body)).toMatchObject({ error: 'headers_too_large' });
  });

  test('a method no route takes is 405 with Allow, and TRACE never reaches an upstream', async () => {
    const before = stack.echo.requests.length;
    const [refused] = await exchange('TRACE /api/public/x HTTP/1.1\r\nHost: localhost\r\nX-CSRF: 1\r\nConnection: close\r\n\r\n');
    expect(refused!.status).toBe(405);
    expect(refused!.headers.allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
    expect(JSON.parse(refused!.body)).toMatchObject({ error: 'method_not_allowed', requestId: refused!.headers['x-request-id'] });
    expect(stack.echo.requests.length).toBe(before);
  });

  test.each([
    ['a declared length', 'Content-Length: 100000\r\n', 'x'.repeat(1000)],
    ['a chunked body', 'Transfer-Encoding: chunked\r\n', `3e8\r\n${'x'.repeat(1000)}\r\n`],
  ])(
    'an upload abandoned midway (%s): the upstream call is cancelled, nothing is logged as failed, the gateway serves on',
    async (_what, framing, part) => {
      const logged = stack.logs.length;
      uploads.length = 0;
      const socket = await open();
      socket.write(`POST /api/sink/upload HTTP/1.1\r\nHost: localhost\r\nX-CSRF: 1\r\n${framing}\r\n${part}`);
      while (uploads.length === 0) await sleep(5);
      socket.destroy();
      const [next] = await exchange(get('/api/public/after', 'Connection: close\r\n'));
      expect(next!.status).toBe(200);
      expect(uploads).toEqual([{ url: '/upload', complete: false }]);
      const failures = stack.logs.slice(logged).filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
      expect(failures).toEqual([]);
    },
  );
});
