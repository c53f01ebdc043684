import type { Page } from 'playwright-core';
import {
  freePort,
  type InteropStack,
  jwtClaims,
  LEMONLDAP_CLIENT_ID,
  LEMONLDAP_CLIENT_SECRET,
  LEMONLDAP_USER,
  type LemonLdapFixture,
  signInAtLemonLdap,
  sleepUntil,
  startInteropStack,
  startLemonLdap,
} from '#sessiongate/testing';

const TODOS_RESOURCE = 'https://todos.api.test';
/** Short, so the suite sees the gateway refresh; the skew makes it refresh 2 s before expiry. */
const ACCESS_TOKEN_SECONDS = 6;
const REFRESH_SKEW_SECONDS = 2;

/**
 * The gateway against LemonLDAP::NG 2.16 (Debian's `lemonldap-ng`, a Perl web SSO nobody here
 * wrote), driven in Chromium through its portal's own login and logout pages. docs/INTEROP.md lists
 * its quirks.
 */
describe('interop: LemonLDAP::NG', () => {
  let lemonldap: LemonLdapFixture;
  let stack: InteropStack;
  let gatewayUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    gatewayUrl = `http://localhost:${port}`;
    lemonldap = await startLemonLdap({ gatewayUrl, accessTokenSeconds: ACCESS_TOKEN_SECONDS });
    stack = await startInteropStack({
      port,
      env: {
        OIDC_ISSUER: lemonldap.issuer,
        OIDC_CLIENT_ID: LEMONLDAP_CLIENT_ID,
        OIDC_CLIENT_SECRET: LEMONLDAP_CLIENT_SECRET,
        // LemonLDAP::NG does not form-decode client_secret_basic credentials either (see the last test).
        OIDC_CLIENT_AUTH_METHOD: 'client_secret_post',
        TOKEN_REFRESH_SKEW: String(REFRESH_SKEW_SECONDS),
        // Its ID tokens carry only `sub` (and iss, acr, ...): the scope claims are in userinfo (see the first test).
        OIDC_FETCH_USERINFO: 'true',
      },
      resource: TODOS_RESOURCE,
      routes: (echoUrl) => [
        { prefix: '/api/doctors', target: `${echoUrl}/doctors`, require: { name: 'Doctor Who' } },
        { prefix: '/api/companions', target: `${echoUrl}/companions`, require: { name: 'Rose Tyler' } },
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await lemonldap?.stop();
  });

  afterEach(() => stack?.closePages());

  /** /bff/login → the portal's login form → back on the gateway with a session. */
  async function logIn(page: Page): Promise<void> {
    await page.goto(`${gatewayUrl}/bff/login`);
    await page.waitForURL(`${lemonldap.url}/oauth2/authorize?**`);
    await signInAtLemonLdap(page);
    await page.waitForURL(`${gatewayUrl}/**`);
  }

  it('logs in on the portal’s login form; /bff/user shows the ID token’s claims and, fetched from userinfo, the scope claims', async () => {
    const page = await stack.newPage();
    await logIn(page);

    const user = await stack.call(page, '/bff/user');
    expect(user.status).toBe(200);
    // `name`, `email` and `preferred_username` are not in the ID token (no IDTokenForceClaims): userinfo has them.
    expect(user.body.claims).toMatchObject({
      iss: lemonldap.issuer,
      sub: LEMONLDAP_USER,
      name: 'Doctor Who',
      email: expect.any(String),
      preferred_username: LEMONLDAP_USER,
    });
    const [sessionCookie] = (await page.context().cookies(gatewayUrl)).filter((cookie) => cookie.name === 'sessiongate');
    expect(sessionCookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  });

  it('relays the access token to the API, and refreshes it once it expires (twice)', async () => {
    const page = await stack.newPage();
    await logIn(page);

    expect((await stack.call(page, '/api/echo/first')).status).toBe(200);
    let previous = stack.lastBearer('/v1/first');
    expect(jwtClaims<{ iss: string; sub: string; exp: number; aud?: string | string[] }>(previous)).toMatchObject({
      iss: lemonldap.issuer,
      sub: LEMONLDAP_USER,
    });
    for (const round of ['second', 'third']) {
      // exp is in whole seconds, and the gateway counts expires_in from when the response arrived.
      await sleepUntil(
        (jwtClaims<{ iss: string; sub: string; exp: number; aud?: string | string[] }>(previous).exp - REFRESH_SKEW_SECONDS + 1) * 1000 +
          250,
      );
      expect((await stack.call(page, `/api/echo/${round}`)).status).toBe(200);
      const current = stack.lastBearer(`/v1/${round}`);
      expect(current).not.toBe(previous);
      expect(jwtClaims<{ iss: string; sub: string; exp: number; aud?: string | string[] }>(current).exp).toBeGreaterThan(
        jwtClaims<{ iss: string; sub: string; exp: number; aud?: string | string[] }>(previous).exp,
      );
      previous = current;
    }
  }, 30_000);

  it('logs out with RP-initiated logout: the portal asks, ends its session and sends the browser back', async () => {
    const page = await stack.newPage();
    await logIn(page);
    const user = await stack.call(page, '/bff/user');

    await page.goto(`${gatewayUrl}${user.body.logoutUrl as string}`);
    await page.waitForURL(`${lemonldap.url}/oauth2/logout?**`);
    await page.locator('button.positive[type=submit]').click();
    await page.waitForURL(`${gatewayUrl}/`);
    expect((await stack.call(page, '/bff/user')).status).toBe(401);

    // The portal's session is gone too: it asks for the password again.
    await page.goto(`${gatewayUrl}/bff/login`);
    await page.locator('input[name=password]').waitFor();
  });

  it('judges route policies on the userinfo claims', async () => {
    const page = await stack.newPage();
    await logIn(page);

    expect((await stack.call(page, '/api/doctors/q')).status).toBe(200);
    expect((await stack.call(page, '/api/companions/q')).body).toMatchObject({ error: 'forbidden' });
    expect(stack.echo.requests.some((request) => request.url.startsWith('/companions'))).toBe(false);
  });

  it('sends no back-channel logout (2.16 does not implement it): a logout at the portal leaves the gateway session alive', async () => {
    const discovery = (await (await fetch(`${lemonldap.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.backchannel_logout_supported).toBe(false);

    const page = await stack.newPage();
    await logIn(page);
    await page.goto(`${lemonldap.url}/?logout=1`);
    // The portal's session did end: it shows its login form.
    await page.goto(lemonldap.url);
    await page.locator('input[name=password]').waitFor();
    await page.goto(`${gatewayUrl}/healthz`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await stack.call(page, '/bff/user')).status).toBe(200);
    expect(stack.gateway.output()).not.toContain('"path":"/bff/backchannel-logout"');
  });

  it('a resource-indicator route: 2.16 ignores RFC 8707 `resource`, so the API gets a token not restricted to it', async () => {
    const page = await stack.newPage();
    await logIn(page);

    expect((await stack.call(page, '/api/todos/list')).status).toBe(200);
    const { aud } = jwtClaims<{ iss: string; sub: string; exp: number; aud?: string | string[] }>(stack.lastBearer('/todos/list')) as {
      aud?: string | string[];
    };
    expect([aud].flat()).not.toContain(TODOS_RESOURCE);
    expect([aud].flat()).toContain(LEMONLDAP_CLIENT_ID);
  });

  it('LemonLDAP::NG does not form-decode client_secret_basic credentials (RFC 6749 §2.3.1)', async () => {
    const token = async (secret: string) => {
      const response = await fetch(`${lemonldap.issuer}/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${LEMONLDAP_CLIENT_ID}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: `${gatewayUrl}/bff/callback` }),
      });
      return ((await response.json()) as { error?: string }).error;
    };
    // The secret as is passes client authentication (then the made-up code is refused)...
    expect(await token(LEMONLDAP_CLIENT_SECRET)).toBe('invalid_grant');
    // ...but the same secret form-encoded, as openid-client sends it ('-' as %2D), does not.
    expect(await token(LEMONLDAP_CLIENT_SECRET.replaceAll('-', '%2D'))).toBe('invalid_client');
  });
});
