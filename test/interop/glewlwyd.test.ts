import type { Page } from 'playwright-core';
import {
  freePort,
  GLEWLWYD_CLIENT_ID,
  GLEWLWYD_CLIENT_SECRET,
  type GlewlwydFixture,
  type InteropStack,
  jwtClaims,
  signInAtGlewlwyd,
  sleepUntil,
  startGlewlwyd,
  startInteropStack,
  waitFor,
} from '#sessiongate/testing';

/** Glewlwyd takes only https:// (or http://localhost) resource indicators. */
const TODOS_RESOURCE = 'https://todos.api.test';
/** Allowed for the client too, but not named at authorization (OIDC_AUTHORIZATION_RESOURCES). */
const REPORTS_RESOURCE = 'https://reports.api.test';
/** Short, so the suite sees the gateway refresh; the skew makes it refresh 2 s before expiry. */
const ACCESS_TOKEN_SECONDS = 6;
const REFRESH_SKEW_SECONDS = 2;

interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly client_id: string;
  readonly scope: string;
  readonly exp: number;
  readonly jti: string;
}

/**
 * The gateway against Glewlwyd (Debian's `glewlwyd`, a C OpenID Provider nobody here wrote),
 * driven in Chromium through Glewlwyd's own login and logout pages. docs/INTEROP.md lists the
 * quirks each test works around or pins down.
 */
describe('interop: Glewlwyd', () => {
  let glewlwyd: GlewlwydFixture;
  let stack: InteropStack;
  let gatewayUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    gatewayUrl = `http://localhost:${port}`;
    glewlwyd = await startGlewlwyd({ gatewayUrl, accessTokenSeconds: ACCESS_TOKEN_SECONDS, resources: [TODOS_RESOURCE, REPORTS_RESOURCE] });
    stack = await startInteropStack({
      port,
      env: {
        OIDC_ISSUER: glewlwyd.issuer,
        OIDC_CLIENT_ID: GLEWLWYD_CLIENT_ID,
        OIDC_CLIENT_SECRET: GLEWLWYD_CLIENT_SECRET,
        // Glewlwyd does not form-decode client_secret_basic credentials (see the last test).
        OIDC_CLIENT_AUTH_METHOD: 'client_secret_post',
        TOKEN_REFRESH_SKEW: String(REFRESH_SKEW_SECONDS),
        // Glewlwyd binds a grant to the resource of its authorization request (see the resource test).
        OIDC_AUTHORIZATION_RESOURCES: TODOS_RESOURCE,
      },
      resource: TODOS_RESOURCE,
      routes: (echoUrl) => [{ prefix: '/api/reports', target: `${echoUrl}/reports`, token: 'user', resource: REPORTS_RESOURCE }],
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await glewlwyd?.stop();
  });

  afterEach(() => stack?.closePages());

  /** /bff/login → Glewlwyd's login page → back on the gateway with a session. */
  async function logIn(page: Page): Promise<void> {
    await page.goto(`${gatewayUrl}/bff/login`);
    await page.waitForURL(`${glewlwyd.url}/login.html?**`);
    await signInAtGlewlwyd(page);
    await page.waitForURL(`${gatewayUrl}/**`);
  }

  /** The gateway's request-log lines for back-channel logout requests. */
  function backchannelLogouts(): { status: number }[] {
    return stack.gateway
      .output()
      .split('\n')
      .filter((line) => line.includes('"path":"/bff/backchannel-logout"') && line.includes('"status":'))
      .map((line) => JSON.parse(line) as { status: number });
  }

  it('logs in on Glewlwyd’s own login page; /bff/user shows the ID token’s claims', async () => {
    const page = await stack.newPage();
    await logIn(page);

    const user = await stack.call(page, '/bff/user');
    expect(user.status).toBe(200);
    expect(user.body.claims).toMatchObject({
      iss: glewlwyd.issuer,
      aud: GLEWLWYD_CLIENT_ID,
      name: 'Alice Anderson',
      email: 'alice@example.test',
      sid: expect.any(String),
    });
    const [sessionCookie] = (await page.context().cookies(gatewayUrl)).filter((cookie) => cookie.name === 'sessiongate');
    expect(sessionCookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  });

  it('relays Glewlwyd’s access token to the API, and refreshes it once it expires (twice: the refresh token rotates)', async () => {
    const page = await stack.newPage();
    await logIn(page);
    const { sub } = (await stack.call(page, '/bff/user')).body.claims as { sub: string };

    expect((await stack.call(page, '/api/echo/first')).status).toBe(200);
    const first = stack.lastBearer('/v1/first');
    const firstClaims = jwtClaims<AccessTokenClaims>(first);
    expect(firstClaims).toMatchObject({ iss: glewlwyd.issuer, sub, client_id: GLEWLWYD_CLIENT_ID });
    expect(firstClaims.scope.split(' ')).toEqual(expect.arrayContaining(['openid', 'offline_access']));

    let previous = first;
    for (const round of ['second', 'third']) {
      // exp is in whole seconds, and the gateway counts expires_in from when the response arrived.
      await sleepUntil((jwtClaims<AccessTokenClaims>(previous).exp - REFRESH_SKEW_SECONDS + 1) * 1000 + 250);
      expect((await stack.call(page, `/api/echo/${round}`)).status).toBe(200);
      const current = stack.lastBearer(`/v1/${round}`);
      expect(current).not.toBe(previous);
      expect(jwtClaims<AccessTokenClaims>(current).exp).toBeGreaterThan(jwtClaims<AccessTokenClaims>(previous).exp);
      expect(jwtClaims<AccessTokenClaims>(current).sub).toBe(sub);
      previous = current;
    }
    expect((await stack.call(page, '/bff/user')).status).toBe(200);
  }, 30_000);

  it('logs out with RP-initiated logout: the gateway session ends and Glewlwyd asks to end its own', async () => {
    const page = await stack.newPage();
    await logIn(page);
    const user = await stack.call(page, '/bff/user');
    const { sid } = user.body.claims as { sid: string };

    await page.goto(`${gatewayUrl}${user.body.logoutUrl as string}`);
    // end_session accepted id_token_hint and post_logout_redirect_uri (else there is no callback_url).
    await page.waitForURL(`${glewlwyd.url}/login.html?**`);
    const confirm = new URL(page.url()).searchParams;
    expect(Object.fromEntries(confirm)).toMatchObject({ prompt: 'end_session', sid, client_id: GLEWLWYD_CLIENT_ID });
    expect(confirm.get('callback_url')).toBe(`${gatewayUrl}/`);
    await page.getByText('The client wishes you to close the current session').waitFor();

    // The gateway ended its session before it sent the browser away.
    await page.goto(`${gatewayUrl}/healthz`);
    expect((await stack.call(page, '/bff/user')).status).toBe(401);

    // Glewlwyd 2.7.5's confirmation page cannot finish (its GET /api/oidc/session/<sid>/<client>
    // answers 400, and its Logout button then does nothing): make the two calls it would make.
    const before = backchannelLogouts().length;
    await page.goto(`${glewlwyd.url}/login.html`);
    expect((await page.request.delete(`${glewlwyd.url}/api/oidc/session/${sid}`)).status()).toBe(200);
    expect((await page.request.delete(`${glewlwyd.url}/api/auth/`)).status()).toBe(200);
    // Ending its session, Glewlwyd also posts a logout token for it: the gateway, whose session is gone already, takes it.
    await waitFor(async () => backchannelLogouts().length > before, 'the logout token to reach the gateway');
    expect(backchannelLogouts().slice(before)).toEqual([expect.objectContaining({ status: 200 })]);

    await page.goto(confirm.get('callback_url')!);
    await page.goto(`${gatewayUrl}/bff/login`);
    await page.waitForURL(`${glewlwyd.url}/login.html?**`);
    // Glewlwyd's session is gone too: it asks for the password again.
    await page.locator('#password').waitFor();
  });

  it('ends the gateway session when Glewlwyd sends a back-channel logout token', async () => {
    const page = await stack.newPage();
    await logIn(page);
    const { sid } = (await stack.call(page, '/bff/user')).body.claims as { sid: string };
    expect((await stack.call(page, '/api/echo/before')).status).toBe(200);

    const before = backchannelLogouts().length;
    // What Glewlwyd's logout page does when a user ends the session there (the browser holds its cookie).
    await page.goto(`${glewlwyd.url}/login.html`);
    expect((await page.request.delete(`${glewlwyd.url}/api/oidc/session/${sid}`)).status()).toBe(200);

    // Glewlwyd posts the logout token from a thread of its own, after answering.
    await waitFor(async () => backchannelLogouts().length > before, 'the logout token to reach the gateway');
    expect(backchannelLogouts().slice(before)).toEqual([expect.objectContaining({ status: 200 })]);
    await page.goto(`${gatewayUrl}/healthz`);
    await waitFor(async () => (await stack.call(page, '/bff/user')).status === 401, 'the gateway session to end');
    expect((await stack.call(page, '/api/echo/after')).body).toMatchObject({ error: 'unauthenticated' });
  });

  it('a resource-indicator route works for the resource the authorization request named; another is refused: 403 resource_refused', async () => {
    const page = await stack.newPage();
    await logIn(page);
    expect((await stack.call(page, '/api/echo/before')).status).toBe(200);
    const loginToken = stack.lastBearer('/v1/before');

    // OIDC_AUTHORIZATION_RESOURCES put `resource` in the PAR body: the grant is bound to it, and a
    // refresh naming it gets a token whose `aud` is the API.
    expect((await stack.call(page, '/api/todos/list')).status).toBe(200);
    expect(jwtClaims<AccessTokenClaims>(stack.lastBearer('/todos/list')).aud).toBe(TODOS_RESOURCE);

    // Glewlwyd refuses a refresh for a resource the authorization request did not name (RFC 8707
    // §2.2 allows that): invalid_target, a configuration error, not an outage.
    const reports = await stack.call(page, '/api/reports/list');
    expect(reports).toMatchObject({ status: 403, body: { error: 'resource_refused' } });
    expect(stack.echo.requests.some((request) => request.url.startsWith('/reports'))).toBe(false);
    // The gateway's log line may reach its stdout a moment after the answer.
    await waitFor(async () => stack.gateway.output().includes('400 invalid_target'), "the gateway to log Glewlwyd's invalid_target");

    // The session is kept, and Glewlwyd did not spend its refresh token on the refusal: once the
    // login's token is due, the refresh for it succeeds.
    expect((await stack.call(page, '/bff/user')).status).toBe(200);
    await sleepUntil((jwtClaims<AccessTokenClaims>(loginToken).exp - REFRESH_SKEW_SECONDS + 1) * 1000 + 250);
    expect((await stack.call(page, '/api/echo/after')).status).toBe(200);
    expect(stack.lastBearer('/v1/after')).not.toBe(loginToken);
  }, 30_000);

  it('Glewlwyd does not form-decode client_secret_basic credentials (RFC 6749 §2.3.1)', async () => {
    const pushAuthorizationRequest = async (secret: string) => {
      const response = await fetch(`${glewlwyd.issuer}/par`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${GLEWLWYD_CLIENT_ID}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          response_type: 'code',
          client_id: GLEWLWYD_CLIENT_ID,
          redirect_uri: `${gatewayUrl}/bff/callback`,
          scope: 'openid',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        }),
      });
      return response.status;
    };
    expect(await pushAuthorizationRequest(GLEWLWYD_CLIENT_SECRET)).toBe(201);
    // The same secret form-encoded, as openid-client sends it ('-' as %2D), is refused.
    expect(await pushAuthorizationRequest(GLEWLWYD_CLIENT_SECRET.replaceAll('-', '%2D'))).toBe(403);
  });
});
