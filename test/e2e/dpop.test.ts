import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, decodeJwt, EmbeddedJWK, jwtVerify } from 'jose';
import WebSocket, { WebSocketServer } from 'ws';
import { loadConfig } from '#sessiongate/config';
import { startGateway } from '#sessiongate/gateway';
import {
  type GatewayStack,
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  freePort,
  leakedSecrets,
  startGatewayStack,
  startIdentityProvider,
  startRedis,
  TODOS_RESOURCE,
} from '#sessiongate/testing';

// DPoP (RFC 9449) end to end: the real gateway, Redis, oidc-provider (features.dPoP) and the demo API,
// which checks every proof with jose; the echo API and a WebSocket API record what they receive.

const CSRF = { 'x-csrf': '1' };
const ORDERS_RESOURCE = 'http://orders.api.test';
const RESOURCES = { [TODOS_RESOURCE]: { scope: 'todos:read todos:write' }, [ORDERS_RESOURCE]: { scope: 'orders:read' } };
const OIDC_SCOPES = 'openid profile email offline_access todos:read todos:write orders:read';

interface Proof {
  readonly payload: Record<string, unknown>;
  readonly thumbprint: string;
  readonly jwk: Record<string, unknown>;
}

async function verifyProof(proof: unknown): Promise<Proof> {
  if (typeof proof !== 'string') throw new Error('no DPoP proof');
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
  return { payload, jwk: protectedHeader.jwk as Record<string, unknown>, thumbprint: await calculateJwkThumbprint(protectedHeader.jwk!) };
}

/** The token and proof an upstream received, checked as RFC 9449 §7.1 asks. */
async function checkedDpop(headers: IncomingHttpHeaders, method: string, htu: string) {
  const [scheme, token] = String(headers.authorization).split(' ');
  expect(scheme).toBe('DPoP');
  const proof = await verifyProof(headers.dpop);
  expect(proof.payload).toMatchObject({ htm: method, htu, ath: createHash('sha256').update(token!).digest('base64url') });
  expect(Math.abs((proof.payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
  const claims = decodeJwt(token!) as { cnf?: { jkt?: string }; aud?: unknown };
  expect(claims.cnf?.jkt).toBe(proof.thumbprint);
  return { token: token!, proof, claims };
}

interface WebSocketApi {
  readonly url: string;
  readonly handshakes: { url: string; headers: IncomingHttpHeaders }[];
  stop(): Promise<void>;
}

async function startWebSocketApi(): Promise<WebSocketApi> {
  const handshakes: WebSocketApi['handshakes'] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request, socket, head) => {
    handshakes.push({ url: request.url!, headers: request.headers });
    wss.handleUpgrade(request, socket, head, (connection) => connection.on('message', (data) => connection.send(`echo:${String(data)}`)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handshakes,
    async stop() {
      for (const connection of wss.clients) connection.terminate();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('DPoP-bound tokens (OIDC_DPOP=true)', () => {
  let stack: GatewayStack;
  let wsApi: WebSocketApi;
  const issued: string[] = [];

  beforeAll(async () => {
    wsApi = await startWebSocketApi();
    stack = await startGatewayStack({
      idp: { resources: RESOURCES },
      env: { OIDC_DPOP: 'true', OIDC_SCOPES },
      routes: ({ echo }) => [
        { prefix: '/api/orders', target: `${echo}/orders`, resource: ORDERS_RESOURCE },
        { prefix: '/api/ws', target: `${wsApi.url}/socket`, websocket: true },
      ],
    });
    stack.idp.onTokenResponse = (body) => {
      if (typeof body.access_token === 'string') issued.push(body.access_token);
      return undefined;
    };
  });

  afterAll(async () => {
    await stack?.stop();
    await wsApi?.stop();
  });

  it('binds the login token, refresh grants for another resource, and every request to the session key', async () => {
    const browser = await stack.loginAs('alice');
    const todos = await browser.get(`${stack.url}/api/todos`, { headers: CSRF });
    // The demo API accepted the proof (signature, htm, htu, ath, iat, jti, cnf.jkt).
    expect(todos.status).toBe(200);
    const before = stack.echo.requests.length;
    expect((await browser.get(`${stack.url}/api/echo/items/7?q=1#x`, { headers: CSRF })).status).toBe(200);
    expect((await browser.get(`${stack.url}/api/orders/recent`, { headers: CSRF })).status).toBe(200);
    const [login, orders] = stack.echo.requests.slice(before);
    const first = await checkedDpop(login!.headers, 'GET', `${stack.echo.url}/v1/items/7`);
    const second = await checkedDpop(orders!.headers, 'GET', `${stack.echo.url}/orders/recent`);
    expect(second.claims.aud).toBe(ORDERS_RESOURCE);
    // One key per session: the login token and the per-resource token are bound to the same one.
    expect(second.proof.thumbprint).toBe(first.proof.thumbprint);
    expect(stack.idp.tokenRequests.map(({ grantType, dpop }) => ({ grantType, dpop }))).toEqual(
      expect.arrayContaining([
        { grantType: 'authorization_code', dpop: true },
        { grantType: 'refresh_token', dpop: true },
      ]),
    );
    expect(stack.idp.tokenRequests.every((request) => request.dpop)).toBe(true);
    // Another session gets another key.
    const other = await stack.loginAs('bob');
    await other.get(`${stack.url}/api/echo/mine`, { headers: CSRF });
    const bobs = await checkedDpop(stack.echo.requests.at(-1)!.headers, 'GET', `${stack.echo.url}/v1/mine`);
    expect(bobs.proof.thumbprint).not.toBe(first.proof.thumbprint);
  });

  it('signs a new proof for every request, never reusing one', async () => {
    const browser = await stack.loginAs('alice');
    const before = stack.echo.requests.length;
    await Promise.all(Array.from({ length: 10 }, () => browser.get(`${stack.url}/api/echo/same`, { headers: CSRF })));
    const proofs = stack.echo.requests.slice(before).map((request) => request.headers.dpop as string);
    expect(new Set(proofs).size).toBe(10);
    const jtis = await Promise.all(proofs.map(async (proof) => (await verifyProof(proof)).payload.jti));
    expect(new Set(jtis).size).toBe(10);
  });

  it("retries once with an API's nonce, and sends it from then on", async () => {
    const browser = await stack.loginAs('alice');
    const before = stack.echo.requests.length;
    const path = '/api/echo/require-dpop-nonce?nonce=api-nonce-1';
    expect((await browser.get(`${stack.url}${path}`, { headers: CSRF })).status).toBe(200);
    const attempts = stack.echo.requests.slice(before);
    expect(attempts).toHaveLength(2);
    expect((await verifyProof(attempts[0]!.headers.dpop)).payload.nonce).toBeUndefined();
    const retry = await checkedDpop(attempts[1]!.headers, 'GET', `${stack.echo.url}/v1/require-dpop-nonce`);
    expect(retry.proof.payload.nonce).toBe('api-nonce-1');
    // Same token, new proof: a nonce challenge is not a reason to refresh.
    expect(attempts[1]!.headers.authorization).toBe(attempts[0]!.headers.authorization);
    expect(attempts[1]!.headers.dpop).not.toBe(attempts[0]!.headers.dpop);
    // The latest nonce of that origin goes with the next request at once.
    expect((await browser.get(`${stack.url}${path}`, { headers: CSRF })).status).toBe(200);
    expect(stack.echo.requests.slice(before + 2)).toHaveLength(1);
    expect((await verifyProof(stack.echo.requests.at(-1)!.headers.dpop)).payload.nonce).toBe('api-nonce-1');
  });

  it('sends a proof with a WebSocket handshake', async () => {
    const browser = await stack.loginAs('alice');
    const cookie = browser.cookies(stack.url)[stack.config.session.cookieName]!;
    const socket = new WebSocket(`${stack.url.replace(/^http/, 'ws')}/api/ws/live?x=1`, {
      headers: { cookie: `${stack.config.session.cookieName}=${cookie}`, origin: stack.url },
    });
    await once(socket, 'open');
    socket.send('hi');
    const [reply] = await once(socket, 'message');
    expect(String(reply)).toBe('echo:hi');
    socket.close();
    const handshake = wsApi.handshakes.at(-1)!;
    await checkedDpop(handshake.headers, 'GET', `${wsApi.url}/socket/live`);
  });

  it('keeps key material, proofs and tokens out of the logs and the admin listing', async () => {
    const browser = await stack.loginAs('alice');
    await browser.get(`${stack.url}/api/echo/logged`, { headers: CSRF });
    const { headers } = stack.echo.requests.at(-1)!;
    const proof = await verifyProof(headers.dpop);
    const listing = await (
      await fetch(`${stack.gateway.adminUrl}/admin/sessions`, { headers: { authorization: `Bearer ${await stack.adminToken()}` } })
    ).text();
    expect(listing).toContain('"sessions"');
    const secrets = [proof.jwk.x as string, proof.jwk.y as string, headers.dpop as string, ...issued];
    expect(leakedSecrets(stack.logs, secrets)).toEqual([]);
    expect(leakedSecrets([listing], secrets)).toEqual([]);
    expect(stack.logs.join('\n')).not.toMatch(/dpopKey|"d":"/);
    expect(listing).not.toMatch(/dpop|"d":"|"jwk"/i);
  });
});

describe('DPoP nonces from the provider and the API', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({
      idp: { resources: RESOURCES, dpop: { requireNonce: true } },
      demoApi: { dpop: { requireNonce: true } },
      env: { OIDC_DPOP: 'true', OIDC_SCOPES },
      routes: ({ todosApi }) => [{ prefix: '/api/todos-read', target: todosApi, resource: TODOS_RESOURCE, scopes: 'todos:read' }],
    });
  });

  afterAll(() => stack?.stop());

  it('logs in with the provider demanding nonces, and 50 concurrent requests cause exactly one refresh grant', async () => {
    const browser = await stack.loginAs('alice');
    expect(stack.idp.grantCount('authorization_code')).toBe(1);
    stack.idp.events.length = 0;
    stack.idp.tokenRequests.length = 0;
    // The provider's nonce changed since the last token request: the refresh is refused once and sent again with the new one.
    stack.idp.tokenEndpointFault = { kind: 'use_dpop_nonce', grantType: 'refresh_token' };
    const responses = await Promise.all(Array.from({ length: 50 }, () => browser.get(`${stack.url}/api/todos-read`, { headers: CSRF })));
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    expect(stack.idp.grantCount('refresh_token')).toBe(1);
    // The refused attempt and its retry: one refresh, under one lock, whatever the 50 requests did.
    expect(stack.idp.tokenRequests.map((request) => request.grantType)).toEqual(['refresh_token', 'refresh_token']);
    expect(stack.idp.refreshTokenReuseDetected()).toBe(false);
    expect(stack.idp.events.filter((event) => event.name === 'grant.error')).toEqual([]);
  });

  it('answers the nonce the provider asks for at PAR and the code exchange (OIDC_USE_PAR=false: dpop_jkt)', async () => {
    const url = await stack.startInstance({ OIDC_USE_PAR: 'false' });
    const browser = stack.browser();
    // The provider sends the browser back to PUBLIC_URL (the first instance): BrowserClient says so, and the login is done.
    await expect(browser.login(url, { username: 'bob', password: 'bob' })).rejects.toThrow(`ended at ${stack.url}/ with status 404`);
    const todos = await browser.get(`${url}/api/todos`, { headers: CSRF });
    expect(todos.status).toBe(200);
    expect(stack.idp.tokenRequests.at(-1)).toMatchObject({ grantType: 'authorization_code', dpop: true });
  });
});

describe('a provider that ignores DPoP', () => {
  it('stops the start with OIDC_DPOP=true, naming the setting', async () => {
    const redis = await startRedis();
    const idp = await startIdentityProvider({
      dpop: { enabled: false },
      clients: [{ client_id: GATEWAY_CLIENT_ID, client_secret: GATEWAY_CLIENT_SECRET, redirect_uris: ['http://localhost/bff/callback'] }],
    });
    try {
      const port = await freePort();
      const config = loadConfig({
        PUBLIC_URL: `http://localhost:${port}`,
        PORT: String(port),
        HOST: 'localhost',
        OIDC_ISSUER: idp.issuer,
        OIDC_CLIENT_ID: GATEWAY_CLIENT_ID,
        OIDC_CLIENT_SECRET: GATEWAY_CLIENT_SECRET,
        OIDC_DPOP: 'true',
        REDIS_URL: redis.url,
        SESSION_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
        LOG_LEVEL: 'silent',
      });
      await expect(startGateway(config)).rejects.toThrow(/OIDC_DPOP: the provider does not advertise DPoP/);
    } finally {
      await idp.stop();
      await redis.stop();
    }
  });

  it('gets Bearer tokens with OIDC_DPOP=optional', async () => {
    const stack = await startGatewayStack({ idp: { dpop: { enabled: false } }, env: { OIDC_DPOP: 'optional' } });
    try {
      const browser = await stack.loginAs('alice');
      expect((await browser.get(`${stack.url}/api/echo/x`, { headers: CSRF })).status).toBe(200);
      expect(String(stack.echo.requests.at(-1)!.headers.authorization)).toMatch(/^Bearer /);
      expect(stack.echo.requests.at(-1)!.headers.dpop).toBeUndefined();
    } finally {
      await stack.stop();
    }
  });

  it('refuses a Bearer answer to a proven request at first use (no silent downgrade)', async () => {
    const stack = await startGatewayStack({ env: { OIDC_DPOP: 'true' } });
    try {
      stack.idp.onTokenResponse = (body) => ({ ...body, token_type: 'Bearer' });
      const browser = stack.browser();
      const landing = await browser.login(stack.url, { username: 'alice', password: 'alice' });
      expect(landing.status).toBe(502);
      expect(landing.json()).toMatchObject({ error: 'dpop_not_bound' });
      expect(stack.logs.some((line) => line.includes('the provider ignores DPoP'))).toBe(true);
    } finally {
      await stack.stop();
    }
  });
});
