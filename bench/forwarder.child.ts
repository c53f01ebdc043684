import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import type { BareProxyOptions } from './bare-proxy.child.js';
import { closeServer, listenOnLoopback, serveChild } from './child-process.js';

/** As many keep-alive connections as the gateway's pool per upstream (CONNECTIONS_PER_UPSTREAM in libs/proxy). */
const CONNECTIONS = 128;
// RFC 9110 §7.6.1: these describe one hop; undici refuses most of them anyway, and Node frames the response itself.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/**
 * The primary baseline: the least a Node forwarder can do. A `node:http` server and one undici Pool to the
 * upstream; the prefix is rewritten as the gateway and the bare proxy do, bodies stream both ways, status and
 * headers are copied (hop-by-hop ones dropped). No logging, no authentication, no framework.
 */
let pool: Pool | undefined;
let options: BareProxyOptions | undefined;

function copied(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}

function forward(request: IncomingMessage, response: ServerResponse): void {
  const { prefix, rewritePrefix } = options!;
  const hasBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
  pool!.stream(
    {
      method: request.method as Dispatcher.HttpMethod,
      path: request.url!.startsWith(prefix) ? rewritePrefix + request.url!.slice(prefix.length) : request.url!,
      headers: copied(request.headers),
      body: hasBody ? request : undefined,
    },
    ({ statusCode, headers }) => response.writeHead(statusCode, copied(headers)),
    (error) => {
      if (!error) return;
      if (response.headersSent) response.destroy(error);
      else response.writeHead(502).end();
    },
  );
}

const server = createServer(forward);

serveChild({
  start(payload) {
    options = payload as BareProxyOptions;
    pool = new Pool(options.upstream, { connections: CONNECTIONS, pipelining: 1 });
    return listenOnLoopback(server);
  },
  async stop() {
    await Promise.all([closeServer(server), pool?.close()]);
  },
});
