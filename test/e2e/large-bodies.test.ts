import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import {
  freePort,
  type GatewayProcess,
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  type IdentityProvider,
  type RedisFixture,
  startGatewayProcess,
  startIdentityProvider,
  startRedis,
} from '#sessiongate/testing';

// Hundreds of megabytes up and down through the production entry point in a child process of its own,
// whose peak resident memory (from /proc) must stay flat: bodies stream, they are never held.

const MIB = 1024 * 1024;
const LARGE = 256 * MIB;
const WARM_UP = 16 * MIB;
/** How much more memory the gateway may use moving LARGE bytes each way than moving WARM_UP bytes. */
const MAX_GROWTH = 64 * MIB;
/** One random block, sent over and over: a body of any length costs the test no memory. */
const BLOCK = randomBytes(64 * 1024);

function body(bytes: number): Readable {
  let left = bytes;
  return new Readable({
    read() {
      const size = Math.min(left, BLOCK.length);
      left -= size;
      this.push(size === 0 ? null : BLOCK.subarray(0, size));
    },
  });
}

async function digest(stream: AsyncIterable<Buffer | Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += chunk.length;
    hash.update(chunk);
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** The digest of body(bytes), computed the same way, to compare with what arrived. */
function expectedDigest(bytes: number): Promise<{ bytes: number; sha256: string }> {
  return digest(body(bytes));
}

let idp: IdentityProvider;
let redis: RedisFixture;
let upstream: Server;
let gateway: GatewayProcess;

beforeAll(async () => {
  [idp, redis] = await Promise.all([
    startIdentityProvider({
      clients: [{ client_id: GATEWAY_CLIENT_ID, client_secret: GATEWAY_CLIENT_SECRET, redirect_uris: ['http://localhost/bff/callback'] }],
    }),
    startRedis(),
  ]);
  // PUT: answers the digest of what it received; GET ?bytes=N: sends body(N) with its length.
  upstream = createServer(async (incoming, response) => {
    if (incoming.method === 'PUT') {
      const received = await digest(incoming);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
      return;
    }
    const bytes = Number(new URL(incoming.url!, 'http://upstream').searchParams.get('bytes'));
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes) });
    body(bytes).pipe(response);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const port = await freePort();
  gateway = await startGatewayProcess({
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: GATEWAY_CLIENT_ID,
    OIDC_CLIENT_SECRET: GATEWAY_CLIENT_SECRET,
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    REDIS_URL: redis.url,
    API_ROUTES: JSON.stringify([
      { prefix: '/api/files', target: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, token: 'none', maxBodyBytes: LARGE },
    ]),
  });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  upstream?.closeAllConnections();
  upstream?.close();
  await Promise.all([idp?.stop(), redis?.stop()]);
});

async function upload(bytes: number): Promise<{ bytes: number; sha256: string }> {
  const response = await request(`${gateway.url}/api/files/upload`, {
    method: 'PUT',
    headers: { 'x-csrf': '1', 'content-type': 'application/octet-stream' },
    body: body(bytes),
  });
  expect(response.statusCode).toBe(200);
  return (await response.body.json()) as { bytes: number; sha256: string };
}

async function download(bytes: number): Promise<{ bytes: number; sha256: string }> {
  const response = await request(`${gateway.url}/api/files/download?bytes=${bytes}`, { headers: { 'x-csrf': '1' } });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-length']).toBe(String(bytes));
  return digest(response.body);
}

/** Runs `transfer` while sampling the gateway's RSS; resolves with the largest sample. */
async function largestRssDuring(transfer: () => Promise<void>): Promise<number> {
  let largest = (await gateway.memory()).rss;
  const sampler = setInterval(
    () =>
      void gateway.memory().then(
        ({ rss }) => (largest = Math.max(largest, rss)),
        () => undefined,
      ),
    20,
  );
  try {
    await transfer();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(largest, (await gateway.memory()).rss);
}

test(`${LARGE / MIB} MiB up and ${LARGE / MIB} MiB down pass intact, the gateway using less than ${MAX_GROWTH / MIB} MiB more memory than for ${WARM_UP / MIB} MiB`, async () => {
  // The same transfers, 16 times smaller first: connections, pools and compiled code are then in place,
  // and the gateway's working set for moving bodies is known. Streaming, it does not grow with their size.
  const moveBodies = (bytes: number) => async () => {
    expect(await upload(bytes)).toEqual(await expectedDigest(bytes));
    expect(await download(bytes)).toEqual(await expectedDigest(bytes));
  };
  const small = await largestRssDuring(moveBodies(WARM_UP));
  const peakBefore = (await gateway.memory()).peakRss;
  const large = await largestRssDuring(moveBodies(LARGE));
  expect(large - small).toBeLessThan(MAX_GROWTH);
  // The kernel's own record of the peak, which no sampling interval can miss.
  expect((await gateway.memory()).peakRss - peakBefore).toBeLessThan(MAX_GROWTH);
}, 120_000);
