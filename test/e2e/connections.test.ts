import { setTimeout as sleep } from 'node:timers/promises';
import {
  BrowserClient,
  type BrowserResponse,
  CALENDAR_USERS,
  type CalendarProvider,
  freePort,
  type GatewayStack,
  leakedSecrets,
  startCalendarProvider,
  startGatewayStack,
} from '#sessiongate/testing';

// Connected accounts through the real gateway: a second, independent oidc-provider as the third party
// (plain OAuth 2.0, its own users and consent screen), a calendar API that introspects its tokens, Redis.

const CSRF = { 'x-csrf': '1' } as const;
const CLIENT_ID = 'gateway-at-calendar';
const CLIENT_SECRET = 'gateway-at-calendar-secret';
/** Short enough that a test waits for expiry: usable for ACCESS_TTL - SKEW seconds. */
const ACCESS_TTL_SECONDS = 3;
const SKEW_SECONDS = 1;

interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
  readonly connectUrl?: string;
}

interface ConnectionView {
  readonly name: string;
  readonly persist: string;
  readonly scopes: string[];
  readonly connectedAt: string;
  readonly expiresAt: string | null;
}

interface Issued {
  readonly access_token: string;
  readonly refresh_token?: string;
}

let stack: GatewayStack;
let calendar: CalendarProvider;
/** Every token the calendar provider issued in this file: none may reach a log, the browser or an admin listing. */
const secrets: string[] = [];
const issued: Issued[] = [];

beforeAll(async () => {
  const port = await freePort();
  const publicUrl = `http://localhost:${port}`;
  calendar = await startCalendarProvider({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    // Both connections are the same client at the provider, which checks each redirect_uri exactly.
    redirectUris: [`${publicUrl}/bff/connect/calendar/callback`, `${publicUrl}/bff/connect/calendar-kept/callback`],
    accessTokenTtlSeconds: ACCESS_TTL_SECONDS,
  });
  calendar.provider.onTokenResponse = (body) => {
    const tokens = body as unknown as Issued;
    issued.push(tokens);
    secrets.push(tokens.access_token, ...(tokens.refresh_token ? [tokens.refresh_token] : []));
    return undefined;
  };
  stack = await startGatewayStack({
    port,
    env: {
      TOKEN_REFRESH_SKEW: String(SKEW_SECONDS),
      CONNECTIONS: JSON.stringify([calendar.connection, { ...calendar.connection, name: 'calendar-kept', persist: 'user' }]),
    },
    routes: () => [
      { prefix: '/api/calendar', target: calendar.api.url, token: 'connected:calendar' },
      { prefix: '/api/calendar-kept', target: calendar.api.url, token: 'connected:calendar-kept' },
    ],
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await calendar?.stop();
});

/** What the calendar provider issued last (the newest access and refresh tokens). */
function lastIssued(): Issued {
  const last = issued.at(-1);
  if (!last) throw new Error('the calendar provider issued nothing');
  return last;
}

/** The connect round trip as a browser with JavaScript off: /bff/connect, the provider's login and consent, back to returnTo. */
async function connect(browser: BrowserClient, name = 'calendar', returnTo = '/after-connect', user = CALENDAR_USERS[0]!) {
  const callback = await stopAtCallback(browser, name, returnTo, user);
  return browser.get(callback, { from: calendar.provider.issuer });
}

/**
 * Starts a connection and walks the provider's pages (its login form, its consent page, answered with
 * `decision`) one hop at a time; returns the callback URL the provider redirects to, without following it.
 * With a provider session and a grant already, the provider sends the browser straight back.
 */
async function stopAtCallback(
  browser: BrowserClient,
  name: string,
  returnTo: string,
  user = CALENDAR_USERS[0]!,
  decision: 'allow' | 'deny' = 'allow',
): Promise<string> {
  let response = await browser.get(`${stack.url}/bff/connect/${name}?returnTo=${encodeURIComponent(returnTo)}`, {
    from: `${stack.url}/`,
    followRedirects: false,
  });
  for (let hops = 0; hops < 20; hops++) {
    if (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get('location') ?? '', response.url);
      if (location.origin === stack.url) {
        // The code and state are secrets too: never logged (the request log leaves the query out).
        for (const name of ['code', 'state']) secrets.push(...location.searchParams.getAll(name));
        return location.href;
      }
      response = await browser.get(location, { followRedirects: false });
    } else if (response.body.includes('id="login-form"')) {
      response = await browser.post(new URL(formAction(response.body), response.url), {
        body: { username: user.username, password: user.password },
        followRedirects: false,
      });
    } else if (response.body.includes('id="consent-form"')) {
      response = await browser.post(new URL(formAction(response.body), response.url), { body: { decision }, followRedirects: false });
    } else {
      break;
    }
  }
  throw new Error(`the provider did not redirect back: ${response.status} ${response.body.slice(0, 300)}`);
}

function formAction(html: string): string {
  return /<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? '';
}

async function events(browser: BrowserClient, prefix = '/api/calendar', base = stack.url): Promise<BrowserResponse> {
  return browser.get(`${base}${prefix}/events`, { headers: CSRF, from: `${base}/` });
}

async function connections(browser: BrowserClient): Promise<ConnectionView[]> {
  const response = await browser.get(`${stack.url}/bff/connections`, { headers: CSRF, from: `${stack.url}/` });
  expect(response.status).toBe(200);
  return response.json<{ connections: ConnectionView[] }>().connections;
}

/** Whether the calendar provider still accepts this refresh token (it is spent by the attempt when it does). */
async function providerAcceptsRefreshToken(refreshToken: string): Promise<boolean> {
  const response = await fetch(`${calendar.provider.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  return response.status === 200;
}

async function introspectionActive(token: string): Promise<boolean> {
  const response = await fetch(`${calendar.provider.issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  return ((await response.json()) as { active: boolean }).active;
}

describe('connected accounts', () => {
  it('answers connection_required, connects through the provider, and relays its token', async () => {
    const alice = await stack.loginAs('alice');
    const before = await events(alice);
    expect(before.status).toBe(401);
    expect(before.json<ErrorBody>()).toMatchObject({ error: 'connection_required', connectUrl: '/bff/connect/calendar?returnTo=%2F' });

    const landing = await connect(alice);
    expect(landing.url).toBe(`${stack.url}/after-connect`);
    const after = await events(alice);
    expect(after.status).toBe(200);
    expect(after.json<{ owner: string }>().owner).toBe(CALENDAR_USERS[0]!.sub);

    const [view, ...others] = await connections(alice);
    expect(others).toEqual([]);
    expect(view).toMatchObject({ name: 'calendar', persist: 'session', scopes: ['calendar:read'] });
    expect(Date.parse(view!.connectedAt)).toBeLessThanOrEqual(Date.now());
    expect(view!.expiresAt).not.toBeNull();
    const user = await alice.get(`${stack.url}/bff/user`, { headers: CSRF });
    expect(leakedSecrets([user.body, JSON.stringify(view), after.body], secrets)).toEqual([]);
  });

  it('refreshes a token near its expiry once for concurrent calls, on any instance', async () => {
    const alice = await stack.loginAs('alice');
    await connect(alice);
    expect((await events(alice)).status).toBe(200);
    const second = await stack.startInstance();
    expect((await events(alice, '/api/calendar', second)).status).toBe(200);

    await sleep((ACCESS_TTL_SECONDS - SKEW_SECONDS) * 1000 + 200);
    calendar.provider.tokenRequests.length = 0;
    const answers = await Promise.all([
      events(alice),
      events(alice),
      events(alice, '/api/calendar', second),
      events(alice, '/api/calendar', second),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(calendar.provider.tokenRequests.filter((request) => request.grantType === 'refresh_token')).toHaveLength(1);
    // Rotation: the spent refresh token was never sent again (oidc-provider would have revoked the grant).
    expect(calendar.provider.refreshTokenReuseDetected()).toBe(false);
  });

  it('drops the connection, keeps the session, when the provider refuses the refresh token', async () => {
    const alice = await stack.loginAs('alice');
    await connect(alice);
    await sleep((ACCESS_TTL_SECONDS - SKEW_SECONDS) * 1000 + 200);
    calendar.provider.tokenEndpointFault = { kind: 'status', status: 400, error: 'invalid_grant', grantType: 'refresh_token' };
    try {
      const refused = await events(alice);
      expect(refused.status).toBe(401);
      expect(refused.json<ErrorBody>().error).toBe('connection_required');
    } finally {
      calendar.provider.tokenEndpointFault = undefined;
    }
    expect((await alice.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(200);
    expect(await connections(alice)).toEqual([]);
    expect((await events(alice)).json<ErrorBody>().error).toBe('connection_required');
  });

  it('refreshes a token its API refused, and drops the connection when the provider has ended the grant', async () => {
    const alice = await stack.loginAs('alice');
    await connect(alice);
    const { access_token: accessToken } = lastIssued();
    // The user revokes the gateway's access at the provider: the grant ends, and its refresh token with it.
    const revoked = await fetch(`${calendar.provider.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: accessToken, token_type_hint: 'access_token' }),
    });
    expect(revoked.status).toBe(200);
    calendar.provider.tokenRequests.length = 0;
    const refused = await events(alice);
    expect([refused.status, refused.json<ErrorBody>().error]).toEqual([401, 'connection_required']);
    // The API's 401 made the gateway try the refresh token once (refused), and the session is untouched.
    expect(calendar.provider.tokenRequests.map((request) => request.grantType)).toEqual(['refresh_token']);
    expect((await alice.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(200);
  });

  it('disconnects: the provider no longer accepts the tokens, and both are audited', async () => {
    const alice = await stack.loginAs('alice');
    await connect(alice);
    const { access_token: accessToken, refresh_token: refreshToken } = lastIssued();
    expect(await introspectionActive(accessToken)).toBe(true);

    const gone = await alice.request('DELETE', `${stack.url}/bff/connections/calendar`, { headers: CSRF, from: `${stack.url}/` });
    expect(gone.status).toBe(204);
    expect(await introspectionActive(accessToken)).toBe(false);
    expect(await providerAcceptsRefreshToken(refreshToken!)).toBe(false);
    expect((await events(alice)).json<ErrorBody>().error).toBe('connection_required');
    const again = await alice.request('DELETE', `${stack.url}/bff/connections/calendar`, { headers: CSRF, from: `${stack.url}/` });
    expect(again.status).toBe(404);
    expect(again.json<ErrorBody>().error).toBe('connection_not_found');

    const audit = await stack.redis.client.xrange('sg:audit', '-', '+');
    const actions = audit.map(([, fields]) => `${fields[fields.indexOf('action') + 1]} ${fields[fields.indexOf('target') + 1]}`);
    expect(actions).toEqual(expect.arrayContaining(['connect connection:calendar', 'disconnect connection:calendar']));
  });

  it('ends the connection with the session: logout and admin revocation revoke it at the provider', async () => {
    const alice = await stack.loginAs('alice');
    await connect(alice);
    const loggedOut = lastIssued();
    const { logoutUrl } = (await alice.get(`${stack.url}/bff/user`, { headers: CSRF })).json<{ logoutUrl: string }>();
    await alice.get(`${stack.url}${logoutUrl}`, { followRedirects: false, from: `${stack.url}/` });
    expect(await introspectionActive(loggedOut.access_token)).toBe(false);

    const bob = await stack.loginAs('bob');
    await connect(bob, 'calendar', '/', CALENDAR_USERS[1]);
    const revoked = lastIssued();
    const admin = { authorization: `Bearer ${await stack.adminToken()}` };
    const page = await fetch(`${stack.url}/admin/sessions?sub=u-1002`, { headers: admin });
    const listing = await page.text();
    expect(JSON.parse(listing).sessions.map((session: { connections: string[] }) => session.connections)).toContainEqual(['calendar']);
    expect(leakedSecrets([listing], secrets)).toEqual([]);
    const ended = await fetch(`${stack.url}/admin/users/u-1002/sessions`, { method: 'DELETE', headers: admin });
    expect(ended.status).toBe(200);
    expect(await introspectionActive(revoked.access_token)).toBe(false);
    expect(await providerAcceptsRefreshToken(revoked.refresh_token!)).toBe(false);
  });

  it('refuses a state from another session, a replay, and a connection started elsewhere', async () => {
    const alice = await stack.loginAs('alice');
    const bob = await stack.loginAs('bob');
    const aliceCallback = await stopAtCallback(alice, 'calendar', '/');

    // Bob's browser, with a pending connection of its own, lands on Alice's callback.
    await bob.get(`${stack.url}/bff/connect/calendar`, { from: `${stack.url}/`, followRedirects: false });
    const crossed = await bob.get(aliceCallback, { from: calendar.provider.issuer });
    expect(crossed.status).toBe(400);
    expect(crossed.json<ErrorBody>().error).toBe('connect_invalid_state');
    // No pending connection at all.
    const none = await stack.browser().get(aliceCallback, { from: calendar.provider.issuer });
    expect(none.json<ErrorBody>().error).toBe('connect_expired');

    // Alice's own attempt is intact, and usable once.
    expect((await alice.get(aliceCallback, { from: calendar.provider.issuer, followRedirects: false })).status).toBe(302);
    const replay = await alice.get(aliceCallback, { from: calendar.provider.issuer });
    expect(replay.json<ErrorBody>().error).toBe('connect_expired');
    expect((await events(bob)).json<ErrorBody>().error).toBe('connection_required');

    // Alice's pending connection carried into Bob's session (his cookie sent, as on a same-site navigation): refused.
    const other = await stopAtCallback(alice, 'calendar', '/');
    const [connectCookie] = Object.entries(alice.cookies(stack.url)).filter(([name]) => name.endsWith('-connect'));
    bob.setCookie(stack.url, `${connectCookie![0]}=${connectCookie![1]}; Path=/; HttpOnly; SameSite=Lax`);
    const mixed = await bob.get(other, { from: null });
    expect(mixed.status).toBe(400);
    expect(mixed.json<ErrorBody>()).toMatchObject({
      error: 'connect_invalid_state',
      message: 'This connection was started in another session. Start again.',
    });
  });

  it('keeps a persist: user connection across logins until an admin ends it with connections=true', async () => {
    const first = await stack.loginAs('alice');
    await connect(first, 'calendar-kept');
    expect((await events(first, '/api/calendar-kept')).status).toBe(200);
    const { logoutUrl } = (await first.get(`${stack.url}/bff/user`, { headers: CSRF })).json<{ logoutUrl: string }>();
    await first.get(`${stack.url}${logoutUrl}`, { followRedirects: false, from: `${stack.url}/` });

    const next = await stack.loginAs('alice');
    expect((await events(next, '/api/calendar-kept')).status).toBe(200);
    expect((await connections(next)).map((view) => [view.name, view.persist])).toEqual([['calendar-kept', 'user']]);
    // Not another user's.
    const bob = await stack.loginAs('bob');
    expect((await events(bob, '/api/calendar-kept')).json<ErrorBody>().error).toBe('connection_required');

    const kept = lastIssued();
    const admin = { authorization: `Bearer ${await stack.adminToken()}` };
    const ended = await fetch(`${stack.url}/admin/users/u-1001/sessions?connections=true`, { method: 'DELETE', headers: admin });
    expect(((await ended.json()) as { connections: string[] }).connections).toEqual(['calendar-kept']);
    expect(await introspectionActive(kept.access_token)).toBe(false);
    const later = await stack.loginAs('alice');
    expect((await events(later, '/api/calendar-kept')).json<ErrorBody>().error).toBe('connection_required');
  });

  it('answers bad input with typed errors', async () => {
    const alice = await stack.loginAs('alice');
    const unknown = await alice.get(`${stack.url}/bff/connect/nope`, { from: `${stack.url}/` });
    expect([unknown.status, unknown.json<ErrorBody>().error]).toEqual([404, 'connection_not_found']);
    const anonymous = await stack.browser().get(`${stack.url}/bff/connect/calendar`, { from: `${stack.url}/` });
    expect([anonymous.status, anonymous.json<ErrorBody>().error]).toEqual([401, 'unauthenticated']);
    // Started from another site (a browser says so in Sec-Fetch-Site, and leaves a Strict session cookie out).
    const crossSite = await alice.get(`${stack.url}/bff/connect/calendar`, {
      from: 'http://evil.example/',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect([crossSite.status, crossSite.json<ErrorBody>().error]).toEqual([403, 'csrf']);
    const noCsrf = await alice.get(`${stack.url}/bff/connections`, { from: `${stack.url}/` });
    expect([noCsrf.status, noCsrf.json<ErrorBody>().error]).toEqual([403, 'csrf']);
    const unknownDelete = await alice.request('DELETE', `${stack.url}/bff/connections/nope`, { headers: CSRF, from: `${stack.url}/` });
    expect(unknownDelete.json<ErrorBody>().error).toBe('connection_not_found');
    const bareCallback = await stack
      .browser()
      .get(`${stack.url}/bff/connect/calendar/callback?code=x&state=y`, { from: calendar.provider.issuer });
    expect([bareCallback.status, bareCallback.json<ErrorBody>().error]).toEqual([400, 'connect_expired']);
    // An open redirect is not possible: returnTo falls back to /.
    const landing = await connect(alice, 'calendar', '//evil.example/');
    expect(landing.url).toBe(`${stack.url}/`);
    // A user who declines at the provider (a browser without a provider session or grant yet).
    const bob = await stack.loginAs('bob');
    const declined = await stopAtCallback(bob, 'calendar', '/', CALENDAR_USERS[1], 'deny');
    const denied = await bob.get(declined, { from: calendar.provider.issuer });
    expect([denied.status, denied.json<ErrorBody>().error]).toEqual([400, 'connect_refused']);
  });

  it("refuses to start when a connection's issuer answers no discovery document, naming the setting", async () => {
    const listed = JSON.parse(stack.env.CONNECTIONS ?? '[]') as unknown[];
    const broken = JSON.stringify([...listed, { name: 'broken', issuer: stack.echo.url, clientId: 'x', clientSecret: 'not-printed' }]);
    const failure = stack.startInstance({ CONNECTIONS: broken });
    await expect(failure).rejects.toThrow(/^CONNECTIONS: connection broken: discovery of http:\/\/127\.0\.0\.1:\d+\/ failed/);
    await expect(failure).rejects.not.toThrow(/not-printed/);
  });

  it('never logs, stores in clear or shows a connection token', async () => {
    expect(secrets.length).toBeGreaterThan(4);
    expect(leakedSecrets(stack.logs, secrets)).toEqual([]);
    const keys = await stack.redis.client.keys('sg:*');
    const values = await Promise.all(
      keys.map(async (key) => {
        const type = await stack.redis.client.type(key);
        if (type === 'string') return stack.redis.client.get(key);
        if (type === 'hash') return JSON.stringify(await stack.redis.client.hgetall(key));
        return '';
      }),
    );
    expect(leakedSecrets(values.map(String), secrets)).toEqual([]);
  });
});
