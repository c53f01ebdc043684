import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer } from 'ws';

export interface RecordedRequest {
  readonly method: string;
  /** The request target exactly as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface EchoApi {
  readonly url: string;
  readonly port: number;
  /** Every request received, in order (WebSocket handshakes too, with `options.websocket`). */
  readonly requests: RecordedRequest[];
  stop(): Promise<void>;
}

export interface EchoApiOptions {
  /** Accept a WebSocket handshake on any path, and answer each message with `echo:<message>`. Default false. */
  readonly websocket?: boolean;
}

const DEFAULT_STREAM_CHUNKS = 5;
const DEFAULT_STREAM_INTERVAL_MS = 50;

/**
 * A plain HTTP API on a free loopback port that answers every request with JSON
 * `{ method, url, headers, body }`, plus an `x-echo: yes` header and a `set-cookie` (which a
 * gateway must not pass on). Special paths, recognised by their last segments whatever the base
 * path before them: `/slow?ms=N` waits N ms first; `/status/N` answers status N (3xx with
 * `location: /elsewhere`); `/stream?chunks=N&ms=M` sends N server-sent events M ms apart;
 * `/reject-token?token=T` answers 401 to `Authorization: Bearer T` and 200 to anything else (a revoked token);
 * `/require-dpop-nonce?nonce=N` answers 401 `WWW-Authenticate: DPoP error="use_dpop_nonce"` with `DPoP-Nonce: N`
 * unless the request's DPoP proof carries nonce N (RFC 9449 §9; the proof is not verified here).
 * A `www-authenticate` query parameter is sent back as the response's WWW-Authenticate header.
 */
export async function startEchoApi(options: EchoApiOptions = {}): Promise<EchoApi> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const recorded: RecordedRequest = {
      method: request.method!,
      url: request.url!,
      headers: request.headers,
      body: Buffer.concat(chunks).toString(),
    };
    requests.push(recorded);
    const [pathname, query] = recorded.url.split('?', 2);
    const params = new URLSearchParams(query);
    const status = /\/status\/(\d{3})$/.exec(pathname!);
    if (pathname!.endsWith('/stream')) {
      await stream(response, Number(params.get('chunks') ?? DEFAULT_STREAM_CHUNKS), Number(params.get('ms') ?? DEFAULT_STREAM_INTERVAL_MS));
      return;
    }
    if (pathname!.endsWith('/slow')) await delay(Number(params.get('ms') ?? 0));
    const rejected = pathname!.endsWith('/reject-token') && recorded.headers.authorization === `Bearer ${params.get('token')}`;
    const nonce = params.get('nonce');
    const nonceMissing = pathname!.endsWith('/require-dpop-nonce') && nonce !== null && proofNonce(recorded.headers.dpop) !== nonce;
    const code = rejected || nonceMissing ? 401 : status ? Number(status[1]) : 200;
    response.writeHead(code, {
      ...(nonceMissing ? { 'www-authenticate': 'DPoP error="use_dpop_nonce", algs="ES256 EdDSA"', 'dpop-nonce': nonce } : {}),
      'content-type': 'application/json',
      'x-echo': 'yes',
      'set-cookie': 'echo=1; Path=/',
      ...(code >= 300 && code < 400 ? { location: '/elsewhere' } : {}),
      ...(params.has('www-authenticate') ? { 'www-authenticate': params.get('www-authenticate')! } : {}),
    });
    response.end(JSON.stringify(recorded));
  });
  const sockets = new WebSocketServer({ noServer: true });
  if (options.websocket) {
    server.on('upgrade', (request: IncomingMessage, socket, head) => {
      requests.push({ method: request.method!, url: request.url!, headers: request.headers, body: '' });
      sockets.handleUpgrade(request, socket, head, (connection) =>
        connection.on('message', (data) => connection.send(`echo:${String(data)}`)),
      );
    });
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async stop() {
      for (const connection of sockets.clients) connection.terminate();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

async function stream(response: ServerResponse, chunks: number, intervalMs: number): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  for (let index = 0; index < chunks && !response.destroyed; index++) {
    if (index > 0) await delay(intervalMs);
    response.write(`data: ${index}\n\n`);
  }
  response.end();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The `nonce` claim of a DPoP proof, read without verifying it (the fixture only stands in for a server's nonce check). */
function proofNonce(proof: string | string[] | undefined): string | undefined {
  if (typeof proof !== 'string') return undefined;
  try {
    const payload = JSON.parse(Buffer.from(proof.split('.')[1] ?? '', 'base64url').toString()) as { nonce?: unknown };
    return typeof payload.nonce === 'string' ? payload.nonce : undefined;
  } catch {
    return undefined;
  }
}
