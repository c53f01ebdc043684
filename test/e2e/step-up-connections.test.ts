import {
  type BrowserClient,
  type BrowserResponse,
  CALENDAR_USERS,
  type CalendarProvider,
  freePort,
  type GatewayStack,
  startCalendarProvider,
  startGatewayStack,
} from '#sessiongate/testing';

// A step-up replaces the session under a new id (docs/STEP-UP.md) without ending it: its persist: session
// connections move to the new session and stay valid at the third party (docs/CONNECTIONS.md, "How
// connections end"). Real Redis, the demo identity provider and the calendar provider with its API.
// Not in connections.test.ts: its 3-second calendar tokens would be refreshed during the step-up, and the
// point here is that the very tokens held before it are still held, and still accepted, after it.

const CSRF = { 'x-csrf': '1' } as const;
const LOA_2 = 'urn:sessiongate:loa:2';
const ALICE_SUB = 'u-1001';
const CLIENT_ID = 'gateway-at-calendar';
const CLIENT_SECRET = 'gateway-at-calendar-secret';
const CALENDAR_BASIC = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

interface Issued {
  readonly access_token: string;
  readonly refresh_token?: string;
}

interface ConnectionView {
  readonly name: string;
  readonly persist: string;
  readonly scopes: string[];
  readonly connectedAt: string;
  readonly expiresAt: string | null;
}

let stack: GatewayStack;
let calendar: CalendarProvider;
const issued: Issued[] = [];

beforeAll(async () => {
  const port = await freePort();
  calendar = await startCalendarProvider({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [`http://localhost:${port}/bff/connect/calendar/callback`],
    // The default 300 seconds: nothing is refreshed during the test.
  });
  calendar.provider.onTokenResponse = (body) => {
    issued.push(body as unknown as Issued);
    return undefined;
  };
  stack = await startGatewayStack({
    port,
    env: { CONNECTIONS: JSON.stringify([calendar.connection]) },
    routes: ({ echo }) => [
      { prefix: '/api/calendar', target: calendar.api.url, token: 'connected:calendar' },
      { prefix: '/api/vault', target: echo, token: 'user', acr: [LOA_2] },
    ],
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await calendar?.stop();
});

/** The connect round trip (as in connections.test.ts): /bff/connect, the calendar's login and consent, back to the gateway. */
async function connect(browser: BrowserClient, user = CALENDAR_USERS[0]!): Promise<BrowserResponse> {
  let response = await browser.get(`${stack.url}/bff/connect/calendar?returnTo=%2F`, { from: `${stack.url}/`, followRedirects: false });
  for (let hops = 0; hops < 20; hops++) {
    if (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get('location') ?? '', response.url);
      if (location.origin === stack.url) return browser.get(location, { from: calendar.provider.issuer });
      response = await browser.get(location, { followRedirects: false });
    } else if (response.body.includes('id="login-form"')) {
      const body = { username: user.username, password: user.password };
      response = await browser.post(new URL(formAction(response.body), response.url), { body, followRedirects: false });
    } else if (response.body.includes('id="consent-form"')) {
      const body = { decision: 'allow' };
      response = await browser.post(new URL(formAction(response.body), response.url), { body, followRedirects: false });
    } else {
      break;
    }
  }
  throw new Error(`the calendar provider did not redirect back: ${response.status} ${response.body.slice(0, 300)}`);
}

function formAction(html: string): string {
  return /<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? '';
}

/** Follows a step-up loginUrl as the SPA would (as in step-up.test.ts), signing in at the provider with `fields`. */
async function followLoginUrl(browser: BrowserClient, loginUrl: string, fields: Record<string, string>): Promise<BrowserResponse> {
  let page = await browser.get(new URL(loginUrl, stack.url), { from: stack.url });
  if (new URL(page.url).origin !== new URL(stack.url).origin) page = await browser.submitForm(page.body, '#login-form', fields);
  return page;
}

function events(browser: BrowserClient): Promise<BrowserResponse> {
  return browser.get(`${stack.url}/api/calendar/events`, { headers: CSRF, from: `${stack.url}/` });
}

async function connections(browser: BrowserClient): Promise<ConnectionView[]> {
  const response = await browser.get(`${stack.url}/bff/connections`, { headers: CSRF, from: `${stack.url}/` });
  expect(response.status).toBe(200);
  return response.json<{ connections: ConnectionView[] }>().connections;
}

/** Whether the calendar provider still accepts this token (RFC 7662; the gateway's client may introspect its own tokens). */
async function introspectionActive(token: string): Promise<boolean> {
  const response = await fetch(`${calendar.provider.issuer}/token/introspection`, {
    method: 'POST',
    headers: { authorization: CALENDAR_BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return ((await response.json()) as { active: boolean }).active;
}

describe('step-up with a connected account', () => {
  it('carries a persist: session connection into the stepped-up session, unrevoked and without a new consent', async () => {
    const alice = await stack.loginAs('alice');
    await connect(alice);
    expect((await events(alice)).status).toBe(200);
    const [before] = await connections(alice);
    expect(before).toMatchObject({ name: 'calendar', persist: 'session' });
    const { access_token: accessToken, refresh_token: refreshToken } = issued.at(-1)!;
    expect(refreshToken).toBeDefined();
    const oldCookie = alice.cookies(stack.url)[stack.config.session.cookieName];

    // The step-up: the route's acr refuses the session, and a second-factor login replaces it.
    const refused = await alice.get(`${stack.url}/api/vault/secrets`, { headers: CSRF });
    expect(refused.status).toBe(401);
    const { error, loginUrl } = refused.json<{ error: string; loginUrl: string }>();
    expect(error).toBe('step_up_required');
    calendar.provider.tokenRequests.length = 0;
    const landing = await followLoginUrl(alice, loginUrl, { username: 'alice', password: 'alice', second_factor: 'yes' });
    expect(new URL(landing.url).origin).toBe(stack.url);
    expect(alice.cookies(stack.url)[stack.config.session.cookieName]).not.toBe(oldCookie);
    const user = await alice.get(`${stack.url}/bff/user`, { headers: CSRF });
    expect(user.json()).toMatchObject({ claims: { sub: ALICE_SUB, acr: LOA_2 } });
    expect((await alice.get(`${stack.url}/api/vault/secrets`, { headers: CSRF })).status).toBe(200);

    // (1) The new session lists the connection made before the step-up (the same one: same connectedAt).
    expect(await connections(alice)).toEqual([before]);
    // (2) A connected route still works with it: the calendar's events, its user's, and nothing asked of
    // the calendar provider (no new authorization code, so no new consent, and no refresh either).
    const after = await events(alice);
    expect(after.status).toBe(200);
    expect(after.json<{ owner: string }>().owner).toBe(CALENDAR_USERS[0]!.sub);
    expect(calendar.provider.tokenRequests).toEqual([]);
    // (3) The tokens held before the step-up were not revoked at the calendar provider (an ended session's would be).
    expect(await introspectionActive(accessToken)).toBe(true);
    expect(await introspectionActive(refreshToken!)).toBe(true);
  });
});
