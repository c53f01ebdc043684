import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BrowserClient,
  type BrowserResponse,
  type GatewayStack,
  type RedisFixture,
  startGatewayStack,
  startRedis,
} from '#sessiongate/testing';

// Each login is driven for real up to the provider's redirect back to /bff/callback; that genuine
// callback URL (code, state, iss) is then tampered with or replayed and sent by the browser.

const ALICE = { username: 'alice', password: 'alice' };
const RETURN_TO = '/after-login';
const CSRF = { 'x-csrf': '1' };

interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
}

interface HeldCallback {
  readonly browser: BrowserClient;
  /** The provider's redirect back to the gateway, not yet followed. */
  readonly url: URL;
  readonly code: string;
  readonly state: string;
  /** The pre-login cookie's value, to put it back after the gateway has cleared it. */
  readonly loginId: string;
}

/**
 * Starts a login at the gateway and signs in at the provider, one hop at a time, stopping at the
 * provider's redirect to the gateway's callback: the browser holds the real callback URL.
 */
async function holdCallback(stack: GatewayStack): Promise<HeldCallback> {
  const browser = stack.browser();
  const gateway = new URL(stack.url).origin;
  let response = await browser.get(`${stack.url}/bff/login?returnTo=${encodeURIComponent(RETURN_TO)}`, {
    from: stack.url,
    followRedirects: false,
  });
  for (let hop = 0; hop < 10; hop++) {
    const location = response.headers.get('location');
    if (location === null) {
      const action = /<form id="login-form"[^>]*\baction="([^"]+)"/.exec(response.body)?.[1];
      if (!action) throw new Error(`holdCallback: neither a redirect nor the login form at ${response.url} (${response.status})`);
      response = await browser.post(new URL(action, response.url), { body: ALICE, followRedirects: false });
      continue;
    }
    const next = new URL(location, response.url);
    if (next.origin === gateway) {
      const { code, state } = Object.fromEntries(next.searchParams);
      const loginId = browser.cookies(stack.url)[stack.config.session.loginCookieName];
      if (next.pathname !== '/bff/callback' || !code || !state || !loginId)
        throw new Error(`holdCallback: unexpected redirect to ${next.href}`);
      return { browser, url: next, code, state, loginId };
    }
    response = await browser.get(next, { followRedirects: false });
  }
  throw new Error('holdCallback: the provider never redirected back to the gateway');
}

/** The browser follows a callback URL, as it would the provider's redirect. */
function sendCallback(browser: BrowserClient, url: URL): Promise<BrowserResponse> {
  return browser.get(url, { followRedirects: false });
}

/** Puts the pre-login cookie back, as a browser that kept (or an attacker who copied) it would. */
function restoreLoginCookie(stack: GatewayStack, held: HeldCallback): void {
  held.browser.setCookie(stack.url, `${stack.config.session.loginCookieName}=${held.loginId}; Path=/; HttpOnly; SameSite=Lax`);
}

function withParameters(url: URL, change: (parameters: URLSearchParams) => void): URL {
  const changed = new URL(url);
  change(changed.searchParams);
  return changed;
}

/** The same string with its middle character changed, so only an exact comparison tells them apart. */
function altered(value: string): string {
  const middle = Math.floor(value.length / 2);
  return `${value.slice(0, middle)}${value[middle] === 'A' ? 'B' : 'A'}${value.slice(middle + 1)}`;
}

const countKeys = (stack: GatewayStack, pattern: string) => stack.redis.client.keys(pattern).then((keys) => keys.length);
const sessionCount = (stack: GatewayStack) => countKeys(stack, 'sg:{*}:s');
const pendingLoginCount = (stack: GatewayStack) => countKeys(stack, 'sg:login:*');

/**
 * A refused callback: the error shape with the code and status, nothing internal or secret in the
 * body, the pre-login cookie cleared, no session cookie, and no session in Redis.
 */
async function expectRefused(
  stack: GatewayStack,
  response: BrowserResponse,
  expected: { status: number; error: string; sessionsBefore: number; secrets: readonly string[] },
): Promise<void> {
  const { cookieName, loginCookieName } = stack.config.session;
  expect(response.status).toBe(expected.status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = response.json<ErrorBody>();
  expect(body).toEqual({ error: expected.error, message: expect.any(String), requestId: expect.stringMatching(/\S/) });
  expect(response.body).not.toMatch(/\n\s*at |Error:|node_modules|\.[jt]s:\d+/);
  expect(response.body).not.toContain('code=');
  for (const secret of expected.secrets) expect(response.body).not.toContain(secret);

  const setCookies = response.headers.getSetCookie();
  expect(setCookies.some((cookie) => cookie.startsWith(`${loginCookieName}=;`) && /;\s*Max-Age=0\b/i.test(cookie))).toBe(true);
  expect(setCookies.filter((cookie) => cookie.startsWith(`${cookieName}=`))).toEqual([]);
  expect(await sessionCount(stack)).toBe(expected.sessionsBefore);
}

/** The pending login was spent by the failure: the genuine callback, with its cookie restored, is now refused too. */
async function expectSpent(stack: GatewayStack, held: HeldCallback): Promise<void> {
  const sessionsBefore = await sessionCount(stack);
  restoreLoginCookie(stack, held);
  const retry = await sendCallback(held.browser, held.url);
  await expectRefused(stack, retry, { status: 400, error: 'login_expired', sessionsBefore, secrets: [held.code, held.state] });
}

describe('login callback failures', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('holds a genuine callback URL that completes the login when sent as is (harness check)', async () => {
    const held = await holdCallback(stack);
    expect(held.url.searchParams.get('iss')).toBe(stack.idp.issuer);
    const sessionsBefore = await sessionCount(stack);

    const response = await sendCallback(held.browser, held.url);

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(RETURN_TO);
    expect(held.browser.cookies(stack.url)[stack.config.session.cookieName]).toBeDefined();
    expect(await sessionCount(stack)).toBe(sessionsBefore + 1);
  });

  it("refuses a callback from a browser without the pre-login cookie (login_expired), without burning the owner's login", async () => {
    const held = await holdCallback(stack);
    const other = stack.browser();
    const sessionsBefore = await sessionCount(stack);
    const pendingBefore = await pendingLoginCount(stack);

    const response = await sendCallback(other, held.url);

    await expectRefused(stack, response, { status: 400, error: 'login_expired', sessionsBefore, secrets: [held.code, held.state] });
    const again = await sendCallback(other, held.url);
    await expectRefused(stack, again, { status: 400, error: 'login_expired', sessionsBefore, secrets: [held.code, held.state] });
    // Without the cookie nobody can even find, let alone spend, the pending login: its owner still completes it.
    expect(await pendingLoginCount(stack)).toBe(pendingBefore);
    const owner = await sendCallback(held.browser, held.url);
    expect(owner.status).toBe(302);
    expect(owner.headers.get('location')).toBe(RETURN_TO);
    expect(await sessionCount(stack)).toBe(sessionsBefore + 1);
  });

  const tamperings: readonly [string, string, (held: HeldCallback) => URL][] = [
    ['state altered', 'invalid_state', (held) => withParameters(held.url, (p) => p.set('state', altered(held.state)))],
    ['state sent twice (same value)', 'invalid_state', (held) => withParameters(held.url, (p) => p.append('state', held.state))],
    [
      'state sent twice (attacker value first)',
      'invalid_state',
      (held) =>
        withParameters(held.url, (p) => {
          p.delete('state');
          p.append('state', altered(held.state));
          p.append('state', held.state);
        }),
    ],
    ['iss missing', 'invalid_state', (held) => withParameters(held.url, (p) => p.delete('iss'))],
    ['iss wrong', 'invalid_state', (held) => withParameters(held.url, (p) => p.set('iss', `${held.url.searchParams.get('iss')}/`))],
    ['iss of another provider', 'invalid_state', (held) => withParameters(held.url, (p) => p.set('iss', 'https://idp.attacker.example'))],
    [
      'provider answered error=access_denied',
      'idp_error',
      (held) => {
        const url = new URL('/bff/callback', held.url);
        url.search = new URLSearchParams({
          error: 'access_denied',
          error_description: 'The <b>user</b> said no',
          state: held.state,
          iss: held.url.searchParams.get('iss')!,
        }).toString();
        return url;
      },
    ],
    ['code altered', 'token_exchange_failed', (held) => withParameters(held.url, (p) => p.set('code', altered(held.code)))],
  ];

  it.each(tamperings)('refuses a callback with %s (%s), spending the pending login', async (_case, error, tamper) => {
    const held = await holdCallback(stack);
    const tampered = tamper(held);
    const sessionsBefore = await sessionCount(stack);
    const pendingBefore = await pendingLoginCount(stack);

    const response = await sendCallback(held.browser, tampered);

    await expectRefused(stack, response, {
      status: 400,
      error,
      sessionsBefore,
      secrets: [held.code, held.state, 'The <b>user</b> said no'],
    });
    expect(held.browser.cookies(stack.url)).toEqual({});
    expect(await pendingLoginCount(stack)).toBe(pendingBefore - 1);
    await expectSpent(stack, held);
  });

  it('refuses a replayed callback (login_expired) and leaves the session it created alone', async () => {
    const held = await holdCallback(stack);
    const { cookieName } = stack.config.session;
    const sessionsBefore = await sessionCount(stack);
    const first = await sendCallback(held.browser, held.url);
    expect(first.status).toBe(302);
    const sessionId = held.browser.cookies(stack.url)[cookieName];
    expect(sessionId).toBeDefined();
    expect(await sessionCount(stack)).toBe(sessionsBefore + 1);

    restoreLoginCookie(stack, held);
    const replay = await sendCallback(held.browser, held.url);

    await expectRefused(stack, replay, {
      status: 400,
      error: 'login_expired',
      sessionsBefore: sessionsBefore + 1,
      secrets: [held.code, held.state, sessionId!],
    });
    expect(held.browser.cookies(stack.url)[cookieName]).toBe(sessionId);
    const user = await held.browser.get(`${stack.url}/bff/user`, { headers: CSRF });
    expect(user.status).toBe(200);
    expect(user.json<{ claims: { sub: string } }>().claims.sub).toBe('u-1001');
  });
});

describe('login callback after the pending login expired', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({ env: { LOGIN_TIMEOUT: '1' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('refuses it with login_expired even when the browser still sends the pre-login cookie', async () => {
    const held = await holdCallback(stack);
    const sessionsBefore = await sessionCount(stack);
    await sleep(1500);
    expect(await pendingLoginCount(stack)).toBe(0);
    // The browser dropped its cookie (Max-Age=1) by now; put it back so the gateway's own expiry is what is tested.
    restoreLoginCookie(stack, held);

    const response = await sendCallback(held.browser, held.url);

    await expectRefused(stack, response, { status: 400, error: 'login_expired', sessionsBefore, secrets: [held.code, held.state] });
    await expectSpent(stack, held);
  });
});

describe('login callback while the provider is down', () => {
  // The provider is stopped mid-test, so this stack is taken down piece by piece: stack.stop() would
  // stop the provider a second time and fail before stopping Redis.
  let redis: RedisFixture;
  let stack: GatewayStack;

  beforeAll(async () => {
    redis = await startRedis();
    stack = await startGatewayStack({ redis });
  });

  afterAll(async () => {
    await stack?.gateway.close();
    await Promise.all([stack?.todosApi.stop(), stack?.echo.stop()]);
    await redis?.stop();
  });

  it('answers 503 idp_unavailable with Retry-After at the token exchange, and spends the pending login', async () => {
    const held = await holdCallback(stack);
    const sessionsBefore = await sessionCount(stack);
    await stack.idp.stop();

    const response = await sendCallback(held.browser, held.url);

    await expectRefused(stack, response, { status: 503, error: 'idp_unavailable', sessionsBefore, secrets: [held.code, held.state] });
    expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await pendingLoginCount(stack)).toBe(0);
    await expectSpent(stack, held);
  });
});
