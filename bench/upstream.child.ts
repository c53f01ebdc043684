import { createServer } from 'node:http';
import { closeServer, listenOnLoopback, serveChild } from './child-process.js';

/** What the upstream has answered, to check that the gateway really forwarded with a token. */
export interface UpstreamStats {
  readonly requests: number;
  readonly withBearerToken: number;
  /** `Authorization: DPoP` with a `DPoP` proof (not verified: the bench measures the gateway's side). */
  readonly withDpopProof: number;
}

/** A JSON document of exactly `bytes` bytes. */
function jsonOfSize(bytes: number): Buffer {
  const envelope = JSON.stringify({ data: '' });
  return Buffer.from(JSON.stringify({ data: 'x'.repeat(bytes - envelope.length) }));
}

// Bodies are built once: the upstream should cost as little as possible, so that what is measured is the proxy.
const BODIES: Readonly<Record<string, Buffer>> = {
  small: Buffer.from(JSON.stringify({ id: 7, title: 'Buy milk', done: false })),
  '1kb': jsonOfSize(1024),
  '100kb': jsonOfSize(100 * 1024),
};

let requests = 0;
let withBearerToken = 0;
let withDpopProof = 0;

/**
 * The upstream API: a minimal node:http server answering GET `<any base>/small` (a small JSON body),
 * `/1kb` and `/100kb`; anything else gets the small body too.
 */
const server = createServer((request, response) => {
  requests++;
  if (request.headers.authorization?.startsWith('Bearer ')) withBearerToken++;
  else if (request.headers.authorization?.startsWith('DPoP ') && request.headers.dpop) withDpopProof++;
  const path = request.url!.split('?', 1)[0]!;
  const body = BODIES[path.slice(path.lastIndexOf('/') + 1)] ?? BODIES.small!;
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  response.end(body);
});

serveChild({
  start: () => listenOnLoopback(server),
  stop: () => closeServer(server),
  calls: {
    stats: (): UpstreamStats => ({ requests, withBearerToken, withDpopProof }),
  },
});
