import { importJWK, SignJWT } from 'jose';
import { type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// A gateway instance that starts while the provider is down (a restart during an outage), on the
// Redis of a running deployment: the sessions already there go on with the tokens they hold, and
// only what needs the provider answers 503 idp_unavailable.

const CSRF = { 'x-csrf': '1' };
const OTHER_RESOURCE = 'http://other.api.test';

let stack: GatewayStack;

beforeAll(async () => {
  stack = await startGatewayStack({
    idp: { resources: { 'http://todos.api.test': { scope: 'todos:read todos:write' }, [OTHER_RESOURCE]: { scope: 'other:read' } } },
    routes: ({ echo }) => [{ prefix: '/api/other', target: echo, token: 'user', resource: OTHER_RESOURCE }],
  });
});

afterAll(async () => {
  await stack.stop();
});

test('sessions in Redis keep their fresh tokens; a token to obtain, a login, the admin API and back-channel logout answer 503', async () => {
  const alice = await stack.loginAs('alice');
  const adminToken = await stack.adminToken();
  // Signed by the provider's key: only the provider's unknown issuer and keys stand in its way.
  const logoutToken = await new SignJWT({
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    jti: 'outage',
    sub: 'u-1001',
  })
    .setProtectedHeader({ alg: 'RS256', kid: stack.idp.signingKey.kid!, typ: 'logout+jwt' })
    .setIssuer(stack.idp.issuer)
    .setAudience(stack.config.oidc.clientId)
    .setIssuedAt()
    .sign(await importJWK(stack.idp.signingKey, 'RS256'));
  await stack.idp.stop();
  const instance = await stack.startInstance();

  const ready = await fetch(`${instance}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ error: { identityProvider: { status: 'down' } } });

  expect((await alice.get(`${instance}/bff/user`, { headers: CSRF, from: stack.url })).status).toBe(200);
  stack.echo.requests.length = 0;
  const fresh = await alice.get(`${instance}/api/echo/anything`, { headers: CSRF, from: stack.url });
  expect(fresh.status).toBe(200);
  expect(stack.echo.requests.at(-1)!.headers.authorization).toMatch(/^Bearer /);
  expect((await alice.get(`${instance}/api/public/ping`, { headers: CSRF, from: stack.url })).status).toBe(200);

  // The session holds no token for this API yet: getting one needs the provider's token endpoint.
  const needsRefresh = await alice.get(`${instance}/api/other/anything`, { headers: CSRF, from: stack.url });
  expect(needsRefresh.status).toBe(503);
  expect(Number(needsRefresh.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(needsRefresh.json()).toMatchObject({ error: 'idp_unavailable' });

  const login = await stack.browser().get(`${instance}/bff/login?returnTo=/`, { from: stack.url });
  expect(login.status).toBe(503);
  expect(login.json()).toMatchObject({ error: 'idp_unavailable' });

  // The admin API and back-channel logout need the provider's keys: 503, so that callers retry.
  const admin = await fetch(`${instance}/admin/sessions`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(admin.status).toBe(503);
  expect(await admin.json()).toMatchObject({ error: 'idp_unavailable' });
  const backchannel = await fetch(`${instance}/bff/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: logoutToken }),
  });
  expect(backchannel.status).toBe(503);
  expect(await backchannel.json()).toMatchObject({ error: 'idp_unavailable' });

  // Logging out still ends the session, here only (the provider cannot be told).
  const { logoutUrl } = (await alice.get(`${instance}/bff/user`, { headers: CSRF, from: stack.url })).json<{ logoutUrl: string }>();
  const logout = await alice.get(`${instance}${logoutUrl}`, { from: stack.url, followRedirects: false });
  expect(logout.status).toBe(302);
  expect(logout.headers.get('location')).toBe(stack.config.oidc.postLogoutRedirectUri.href);
  expect((await alice.get(`${instance}/bff/user`, { headers: CSRF, from: stack.url })).status).toBe(401);
});
