import { createPrivateKey, type JsonWebKey, sign } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { WebSocketServer } from 'ws';
import {
  type BrowserClient,
  type BrowserResponse,
  type GatewayStack,
  gatewayClientBasicAuth,
  signLogoutToken,
  startGatewayStack,
  TODOS_RESOURCE,
} from '#sessiongate/testing';

const CSRF = { 'x-csrf': '1' };
const LOA_2 = 'urn:sessiongate:loa:2';
const ALICE_SUB = 'u-1001';
const BOB_SUB = 'u-1002';

interface StepUpBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
  readonly loginUrl: string;
}

/** Follows a step-up loginUrl as the SPA would, signing in at the provider with `fields` (username, password, second_factor). */
async function followLoginUrl(stack: GatewayStack, browser: BrowserClient, loginUrl: string, fields: Record<string, string>) {
  let page = await browser.get(new URL(loginUrl, stack.url), { from: stack.url });
  if (new URL(page.url).origin !== new URL(stack.url).origin) page = await browser.submitForm(page.body, '#login-form', fields);
  return page;
}

/** The session cookie's value in `browser`. */
function sessionCookie(stack: GatewayStack, browser: BrowserClient): string | undefined {
  return browser.cookies(stack.url)[stack.config.session.cookieName];
}

/** /bff/user on `url` with only this session cookie (as a browser holding the old cookie would send it). */
function userWithCookie(stack: GatewayStack, url: string, cookie: string): Promise<Response> {
  return fetch(`${url}/bff/user`, { headers: { ...CSRF, cookie: `${stack.config.session.cookieName}=${cookie}` } });
}

async function adminSessions(stack: GatewayStack, sub: string): Promise<{ id: string }[]> {
  const response = await fetch(`${stack.url}/admin/sessions?sub=${sub}`, {
    headers: { authorization: `Bearer ${await stack.adminToken()}` },
  });
  return ((await response.json()) as { sessions: { id: string }[] }).sessions;
}

async function publicId(browser: BrowserClient, stack: GatewayStack): Promise<string> {
  const { logoutUrl } = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).json<{ logoutUrl: string }>();
  return new URL(logoutUrl, stack.url).searchParams.get('sid')!;
}

/** A WebSocket API that accepts every handshake. */
async function startWebSocketApi(): Promise<{ url: string; stop(): Promise<void> }> {
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      for (const connection of wss.clients) connection.terminate();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Makes the provider's next ID tokens say the user authenticated `secondsAgo` ago (a provider ignoring max_age), signed by its key. */
function backdateAuthTime(stack: GatewayStack, secondsAgo: number): void {
  const key = createPrivateKey({ key: stack.idp.signingKey as JsonWebKey, format: 'jwk' });
  stack.idp.onTokenResponse = (body) => {
    if (typeof body.id_token !== 'string') return body;
    const [header, payload] = body.id_token.split('.');
    const claims = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), auth_time: Math.floor(Date.now() / 1000) - secondsAgo };
    const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return { ...body, id_token: `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}` };
  };
}

describe('step-up authentication (RFC 9470)', () => {
  let stack: GatewayStack;
  let secondInstance: string;
  let webSocketApi: Awaited<ReturnType<typeof startWebSocketApi>>;

  beforeAll(async () => {
    webSocketApi = await startWebSocketApi();
    stack = await startGatewayStack({
      // Every read slides the idle expiry, so that slide=false can be told apart.
      env: { SESSION_TOUCH_INTERVAL: '0' },
      routes: ({ echo }) => [
        { prefix: '/api/vault', target: echo, token: 'user', acr: [LOA_2] },
        { prefix: '/api/recent', target: echo, token: 'user', maxAge: 300 },
        { prefix: '/api/live', target: webSocketApi.url, token: 'user', websocket: true },
        { prefix: '/api/vault-api', target: echo, token: 'user', acr: [LOA_2], bearer: { audience: TODOS_RESOURCE } },
      ],
    });
    secondInstance = await stack.startInstance();
  });

  afterAll(async () => {
    await stack?.stop();
    await webSocketApi?.stop();
  });

  it("refuses a route's acr before calling the API, then a second-factor login replaces the session", async () => {
    let oldRefreshToken = '';
    stack.idp.onTokenResponse = (issued) => {
      oldRefreshToken = String(issued.refresh_token);
      return issued;
    };
    const browser = await stack.loginAs('alice').finally(() => {
      stack.idp.onTokenResponse = undefined;
    });
    const other = await stack.loginAs('alice');
    const oldCookie = sessionCookie(stack, browser)!;
    const oldPublicId = await publicId(browser, stack);
    const echoed = stack.echo.requests.length;
    const socket = new WebSocket(`${stack.url.replace(/^http/, 'ws')}/api/live`, {
      headers: { origin: stack.url, cookie: `${stack.config.session.cookieName}=${oldCookie}` },
    });
    await once(socket, 'open');
    const closed = once(socket, 'close');

    const refused = await browser.get(`${stack.url}/api/vault/secrets`, { headers: CSRF });
    expect(refused.status).toBe(401);
    const body = refused.json<StepUpBody>();
    expect(body).toEqual({
      error: 'step_up_required',
      message: expect.any(String),
      requestId: refused.headers.get('x-request-id'),
      loginUrl: `/bff/login?acr_values=${encodeURIComponent(LOA_2)}&returnTo=%2F`,
    });
    expect(stack.echo.requests.length).toBe(echoed);

    const landing = await followLoginUrl(stack, browser, body.loginUrl, { username: 'alice', password: 'alice', second_factor: 'yes' });
    expect(new URL(landing.url).origin).toBe(stack.url);
    // The old session's refresh token is revoked at the provider (RFC 7009), and its WebSocket closed.
    const refresh = await fetch(`${stack.idp.issuer}/token`, {
      method: 'POST',
      headers: { authorization: gatewayClientBasicAuth(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: oldRefreshToken }),
    });
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
    const [code, reason] = (await closed) as [number, Buffer];
    expect({ code, reason: String(reason) }).toEqual({ code: 1008, reason: 'session_ended' });
    const newCookie = sessionCookie(stack, browser)!;
    expect(newCookie).toBeDefined();
    expect(newCookie).not.toBe(oldCookie);
    const user = await browser.get(`${stack.url}/bff/user`, { headers: CSRF });
    expect(user.json()).toMatchObject({ claims: { sub: ALICE_SUB, acr: LOA_2 } });
    expect((await browser.get(`${stack.url}/api/vault/secrets`, { headers: CSRF })).status).toBe(200);

    // The old cookie is refused everywhere; the user's other session is untouched; the indexes name the new session.
    for (const url of [stack.url, secondInstance]) expect((await userWithCookie(stack, url, oldCookie)).status).toBe(401);
    expect((await other.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(200);
    const ids = (await adminSessions(stack, ALICE_SUB)).map((session) => session.id);
    expect(ids).not.toContain(oldPublicId);
    expect(ids).toContain(await publicId(browser, stack));
    expect(ids).toContain(await publicId(other, stack));
  });

  it("passes an API's insufficient_user_authentication challenge on as step_up_required, without retrying it", async () => {
    const browser = await stack.loginAs('alice');
    const oldCookie = sessionCookie(stack, browser)!;
    const tokenRequests = stack.idp.tokenRequests.length;

    const refused = await browser.post(`${stack.url}/api/todos/sensitive`, { headers: CSRF, json: { confirm: true } });
    expect(refused.status).toBe(401);
    const body = refused.json<StepUpBody>();
    expect(body).toMatchObject({ error: 'step_up_required', loginUrl: `/bff/login?acr_values=${encodeURIComponent(LOA_2)}&returnTo=%2F` });
    expect(refused.body).not.toContain('insufficient_user_authentication');
    // No refresh: a new token from the same login would be refused the same way.
    expect(stack.idp.tokenRequests.length).toBe(tokenRequests);

    await followLoginUrl(stack, browser, body.loginUrl, { username: 'alice', password: 'alice', second_factor: 'yes' });
    expect(sessionCookie(stack, browser)).not.toBe(oldCookie);
    const done = await browser.post(`${stack.url}/api/todos/sensitive`, { headers: CSRF, json: { confirm: true } });
    expect(done.status).toBe(201);
    expect(done.json()).toMatchObject({ done: true, sub: ALICE_SUB, acr: LOA_2 });
    for (const url of [stack.url, secondInstance]) expect((await userWithCookie(stack, url, oldCookie)).status).toBe(401);

    // The provider-session index names the new session: a back-channel logout of that sid ends it.
    const { claims } = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).json<{ claims: { sid: string } }>();
    const logout = await fetch(`${stack.url}/bff/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: await signLogoutToken(stack.idp, { sid: claims.sid }) }),
    });
    expect(logout.status).toBe(200);
    expect((await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(401);
  });

  it("refuses a route's maxAge for an old auth_time, and a fresh login at the provider meets it", async () => {
    backdateAuthTime(stack, 3600);
    let browser: BrowserClient;
    try {
      browser = await stack.loginAs('alice');
    } finally {
      stack.idp.onTokenResponse = undefined;
    }
    const oldCookie = sessionCookie(stack, browser)!;
    const refused = await browser.get(`${stack.url}/api/recent/x`, { headers: CSRF });
    expect(refused.status).toBe(401);
    const { loginUrl } = refused.json<StepUpBody>();
    expect(loginUrl).toBe('/bff/login?max_age=300&returnTo=%2F');
    // The provider session is a second old, so it logs in again without asking (max_age is met there).
    await followLoginUrl(stack, browser, loginUrl, { username: 'alice', password: 'alice' });
    expect(sessionCookie(stack, browser)).not.toBe(oldCookie);
    expect((await browser.get(`${stack.url}/api/recent/x`, { headers: CSRF })).status).toBe(200);
  });

  it("judges a bearer caller's token by the route's acr: 401 insufficient_user_authentication with the RFC 9470 challenge", async () => {
    const browser = await stack.loginAs('alice');
    /** The user's access token, as the gateway sends it upstream. */
    const accessToken = async () => {
      const since = stack.echo.requests.length;
      expect((await browser.get(`${stack.url}/api/echo/x`, { headers: CSRF })).status).toBe(200);
      return String(stack.echo.requests[since]!.headers.authorization).slice('Bearer '.length);
    };
    const call = async (token: string) => fetch(`${stack.url}/api/vault-api/x`, { headers: { authorization: `Bearer ${token}` } });
    const since = stack.echo.requests.length;
    const refused = await call(await accessToken());
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe(`Bearer error="insufficient_user_authentication", acr_values="${LOA_2}"`);
    expect(await refused.json()).toMatchObject({ error: 'insufficient_user_authentication' });
    expect(stack.echo.requests.slice(since + 1)).toEqual([]);

    const loginUrl = `/bff/login?acr_values=${encodeURIComponent(LOA_2)}&returnTo=%2F`;
    await followLoginUrl(stack, browser, loginUrl, { username: 'alice', password: 'alice', second_factor: 'yes' });
    expect((await call(await accessToken())).status).toBe(200);
  });

  it('refuses a step-up whose ID token lacks the acr asked for (invalid_id_token), keeping the session', async () => {
    const browser = await stack.loginAs('alice');
    const cookie = sessionCookie(stack, browser)!;
    const loginUrl = `/bff/login?acr_values=${encodeURIComponent(LOA_2)}&returnTo=%2F`;
    // Signed in without the second factor: the provider issues loa:1.
    const landing = await followLoginUrl(stack, browser, loginUrl, { username: 'alice', password: 'alice' });
    expect(landing.status).toBe(400);
    expect(landing.json()).toMatchObject({ error: 'invalid_id_token' });
    expect(sessionCookie(stack, browser)).toBe(cookie);
    expect((await userWithCookie(stack, stack.url, cookie)).status).toBe(200);
  });

  it('refuses a step-up as another user, keeping the session and creating none', async () => {
    const cookie = sessionCookie(stack, await stack.loginAs('alice'))!;
    // The gateway session without alice's provider session: signing in as bob there would otherwise end
    // hers at the provider, whose back-channel logout would then end this session too.
    const browser = stack.browser();
    browser.setCookie(stack.url, `${stack.config.session.cookieName}=${cookie}; Path=/; HttpOnly; SameSite=Strict`);
    const loginUrl = `/bff/login?acr_values=${encodeURIComponent(LOA_2)}&returnTo=%2F`;
    const landing = await followLoginUrl(stack, browser, loginUrl, { username: 'bob', password: 'bob', second_factor: 'yes' });
    expect(landing.status).toBe(403);
    expect(landing.json()).toMatchObject({ error: 'step_up_subject_mismatch' });
    expect(sessionCookie(stack, browser)).toBe(cookie);
    const user = await userWithCookie(stack, stack.url, cookie);
    expect(user.status).toBe(200);
    expect(await user.json()).toMatchObject({ claims: { sub: ALICE_SUB } });
    expect(await adminSessions(stack, BOB_SUB)).toEqual([]);
  });

  it('returns a silent login (prompt=none) without a provider session to returnTo with error=login_required', async () => {
    const browser = stack.browser();
    const landing = await browser.get(`${stack.url}/bff/login?prompt=none&returnTo=${encodeURIComponent('/app?tab=2#top')}`);
    expect(landing.redirects.at(-1)?.location).toBe('/app?tab=2&error=login_required#top');
    expect(sessionCookie(stack, browser)).toBeUndefined();
  });

  it('logs in silently (prompt=none) with a provider session', async () => {
    const browser = await stack.loginAs('bob');
    const before = sessionCookie(stack, browser);
    const landing: BrowserResponse = await browser.get(`${stack.url}/bff/login?prompt=none&returnTo=%2Fhome`);
    expect(landing.redirects.at(-1)?.location).toBe('/home');
    const after = sessionCookie(stack, browser);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect((await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).json()).toMatchObject({ claims: { sub: BOB_SUB } });
  });

  it('refuses a malformed login parameter with 400 invalid_request', async () => {
    for (const query of ['prompt=create', 'max_age=soon', 'prompt=none&prompt=login', 'ui_locales=%3Cscript%3E']) {
      const response = await stack.browser().get(`${stack.url}/bff/login?${query}`, { followRedirects: false });
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({ error: 'invalid_request' });
      expect(response.body).not.toContain('script');
    }
  });

  it('/bff/user?slide=false answers without moving the idle expiry', async () => {
    const browser = await stack.loginAs('alice');
    const expiresAt = async (query: string) =>
      Date.parse(
        (await browser.get(`${stack.url}/bff/user${query}`, { headers: CSRF })).json<{ session: { expiresAt: string } }>().session
          .expiresAt,
      );
    const first = await expiresAt('');
    await sleep(1100);
    expect(await expiresAt('?slide=false')).toBe(first);
    await sleep(1100);
    expect(await expiresAt('?slide=false')).toBe(first);
    expect(await expiresAt('')).toBeGreaterThan(first + 2000);
  });
});

describe('the login parameters', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({ env: { OIDC_USE_PAR: 'false' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('passes prompt, acr_values, max_age, login_hint and ui_locales through, and nothing else', async () => {
    const query = new URLSearchParams({
      prompt: 'login',
      acr_values: `urn:sessiongate:loa:1 ${LOA_2}`,
      max_age: '300',
      login_hint: 'alice@example.com',
      ui_locales: 'fr-CA en',
      scope: 'openid admin',
      redirect_uri: 'https://evil.example/cb',
      response_mode: 'form_post',
      claims: '{}',
      returnTo: '/',
    });
    const response = await stack.browser().get(`${stack.url}/bff/login?${query}`, { followRedirects: false });
    expect(response.status).toBe(302);
    const sent = new URL(response.headers.get('location')!).searchParams;
    expect(sent.get('prompt')).toBe('login');
    expect(sent.get('acr_values')).toBe(`urn:sessiongate:loa:1 ${LOA_2}`);
    expect(sent.get('max_age')).toBe('300');
    expect(sent.get('login_hint')).toBe('alice@example.com');
    expect(sent.get('ui_locales')).toBe('fr-CA en');
    expect(sent.get('scope')).toBe(stack.config.oidc.scopes);
    expect(sent.get('redirect_uri')).toBe(`${stack.url}/bff/callback`);
    expect(sent.has('response_mode')).toBe(false);
    expect(sent.has('claims')).toBe(false);
  });
});
