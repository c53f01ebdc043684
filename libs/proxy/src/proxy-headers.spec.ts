import { BearerCredential } from './bearer.credential.js';
import { downstreamResponseHeaders, type Forwarding, upstreamRequestHeaders } from './proxy-headers.js';
import type { UpstreamAttempt, UpstreamCredential } from './upstream-credential.js';

const forwarding: Forwarding = {
  clientIp: '203.0.113.7',
  publicUrl: new URL('https://app.example.com'),
  target: new URL('http://todos.internal:4000/v1'),
  requestId: 'req-1',
  credential: new BearerCredential('access-token'),
  method: 'GET',
  path: '/v1/items',
};

describe('upstreamRequestHeaders', () => {
  it('keeps ordinary headers and sets the forwarding facts and the bearer token', () => {
    const headers = upstreamRequestHeaders(
      {
        accept: 'application/json',
        'content-type': 'application/json',
        'content-length': '12',
        'accept-language': 'de',
        host: 'app.example.com',
      },
      forwarding,
    );
    expect(headers).toEqual({
      accept: 'application/json',
      'content-type': 'application/json',
      'content-length': '12',
      'accept-language': 'de',
      host: 'todos.internal:4000',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example.com',
      'x-request-id': 'req-1',
      authorization: 'Bearer access-token',
    });
  });

  it('strips credentials, client-asserted forwarding facts, the CSRF header and hop-by-hop headers', () => {
    const headers = upstreamRequestHeaders(
      {
        cookie: 'sessiongate=secret',
        authorization: 'Bearer from-the-browser',
        'proxy-authorization': 'Basic eDp5',
        'x-csrf': '1',
        forwarded: 'for=1.2.3.4',
        'x-forwarded-for': '1.2.3.4',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '1',
        'x-forwarded-prefix': '/admin',
        'x-real-ip': '1.2.3.4',
        'x-request-id': 'spoofed',
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        te: 'trailers',
        trailer: 'x-checksum',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        expect: '100-continue',
        accept: '*/*',
      },
      { ...forwarding, credential: undefined },
    );
    expect(headers).toEqual({
      accept: '*/*',
      host: 'todos.internal:4000',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example.com',
      'x-request-id': 'req-1',
    });
  });

  it('strips every header the Connection header names', () => {
    const headers = upstreamRequestHeaders(
      { connection: 'close, X-Secret ,x-other', 'x-secret': 's', 'x-other': 'o', 'x-kept': 'k' },
      forwarding,
    );
    expect(headers).not.toHaveProperty('x-secret');
    expect(headers).not.toHaveProperty('x-other');
    expect(headers['x-kept']).toBe('k');
  });

  it('uses the public URL scheme and the host with its port', () => {
    const headers = upstreamRequestHeaders({}, { ...forwarding, publicUrl: new URL('http://localhost:8080') });
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('localhost:8080');
  });
});

describe('a credential with per-attempt headers', () => {
  it("is asked for them on every attempt, with the method and exact upstream URL, and they replace the client's", () => {
    const attempts: UpstreamAttempt[] = [];
    const credential: UpstreamCredential = {
      scheme: 'DPoP',
      token: 'bound-token',
      authorization: 'DPoP bound-token',
      attemptHeaders: (attempt) => {
        attempts.push(attempt);
        return { dpop: `proof-${attempts.length}` };
      },
      retryAfter401: () => ({ rejectedToken: 'bound-token' }),
    };
    const attempt = { ...forwarding, credential, method: 'POST', path: '/v1/items?page=2' };
    expect(upstreamRequestHeaders({ dpop: 'from-the-browser' }, attempt)).toMatchObject({
      authorization: 'DPoP bound-token',
      dpop: 'proof-1',
    });
    expect(upstreamRequestHeaders({}, attempt).dpop).toBe('proof-2');
    expect(attempts).toEqual([
      { method: 'POST', url: 'http://todos.internal:4000/v1/items?page=2' },
      { method: 'POST', url: 'http://todos.internal:4000/v1/items?page=2' },
    ]);
  });
});

describe('downstreamResponseHeaders', () => {
  it("drops the API's CORS headers and keeps its cookies only when the route allows them", () => {
    const upstream = {
      'access-control-allow-origin': '*',
      'access-control-allow-credentials': 'true',
      'set-cookie': ['a=1'],
      'x-kept': '1',
    };
    expect(downstreamResponseHeaders(upstream)).toEqual({ 'x-kept': '1' });
    expect(downstreamResponseHeaders(upstream, true)).toEqual({ 'set-cookie': ['a=1'], 'x-kept': '1' });
  });

  it('passes headers and status-related fields through, without hop-by-hop headers and cookies', () => {
    const headers = downstreamResponseHeaders({
      'content-type': 'application/json',
      'content-length': '2',
      etag: '"1"',
      location: '/elsewhere',
      'cache-control': 'no-store',
      vary: ['accept', 'origin'],
      'set-cookie': ['a=1', 'b=2'],
      connection: 'keep-alive, x-hop',
      'x-hop': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      trailer: 'x-checksum',
      upgrade: 'h2c',
      'x-absent': undefined,
    });
    expect(headers).toEqual({
      'content-type': 'application/json',
      'content-length': '2',
      etag: '"1"',
      location: '/elsewhere',
      'cache-control': 'no-store',
      vary: ['accept', 'origin'],
    });
  });
});
