import { randomBytes } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import {
  type BrowserClient,
  GATEWAY_CLIENT_ID,
  type GatewayStack,
  type RedisClusterFixture,
  startGatewayStack,
  startRedisCluster,
} from '#sessiongate/testing';

// The revocation paths through the real gateway on a real Redis Cluster (three masters): sessions and
// their indexes live in different slots, so every path crosses nodes. The store itself is covered
// on Cluster by test/integration/session-store.test.ts and admin-session-index.test.ts.

const CSRF = { 'x-csrf': '1' } as const;

let cluster: RedisClusterFixture;
let stack: GatewayStack;

beforeAll(async () => {
  cluster = await startRedisCluster();
  // REDIS_URL empty: unset, the stack's own standalone Redis is not used.
  stack = await startGatewayStack({ env: { REDIS_URL: '', ...cluster.env } });
});
afterAll(async () => {
  await stack?.stop();
  await cluster?.stop();
});

async function status(browser: BrowserClient): Promise<number> {
  return (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).status;
}

async function whoIs(browser: BrowserClient): Promise<{ sub: string; sid: string; publicId: string }> {
  const { claims, logoutUrl } = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{
    claims: { sub: string; sid: string };
    logoutUrl: string;
  }>();
  return { sub: claims.sub, sid: claims.sid, publicId: new URL(logoutUrl, stack.url).searchParams.get('sid')! };
}

async function admin(method: string, path: string): Promise<{ status: number; body: { revoked?: string[] } }> {
  const response = await fetch(`${stack.gateway.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${await stack.adminToken()}` },
  });
  return { status: response.status, body: (await response.json()) as { revoked?: string[] } };
}

it('logs in, lists and revokes by session and by user through the admin API', async () => {
  const [alice, aliceAgain, bob] = [await stack.loginAs('alice'), await stack.loginAs('alice'), await stack.loginAs('bob')];
  const [a1, a2, b] = [await whoIs(alice), await whoIs(aliceAgain), await whoIs(bob)];
  expect((await admin('GET', `/admin/sessions/${b.publicId}`)).status).toBe(200);

  expect(await admin('DELETE', `/admin/sessions/${b.publicId}`)).toEqual({ status: 200, body: { revoked: [b.publicId] } });
  expect(await status(bob)).toBe(401);

  const byUser = await admin('DELETE', `/admin/users/${encodeURIComponent(a1.sub)}/sessions`);
  expect(byUser.body.revoked?.sort()).toEqual([a1.publicId, a2.publicId].sort());
  expect([await status(alice), await status(aliceAgain)]).toEqual([401, 401]);
});

it('ends the sessions of a provider session on a back-channel logout', async () => {
  const [alice, bob] = [await stack.loginAs('alice'), await stack.loginAs('bob')];
  const { sid } = await whoIs(alice);
  const key = await importJWK(stack.idp.signingKey, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    iss: stack.idp.issuer,
    aud: GATEWAY_CLIENT_ID,
    iat: now,
    exp: now + 120,
    jti: randomBytes(16).toString('hex'),
    sid,
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
  })
    .setProtectedHeader({ alg: 'RS256', kid: stack.idp.signingKey.kid, typ: 'logout+jwt' })
    .sign(key);
  const response = await fetch(`${stack.url}/bff/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }),
  });
  expect(response.status).toBe(200);
  expect(await status(alice)).toBe(401);
  expect(await status(bob)).toBe(200);
});

it('has another instance refuse a revoked session on its very next request: on a Cluster every read goes to Redis', async () => {
  const second = await stack.startInstance();
  const alice = await stack.loginAs('alice');
  const cookie = `${stack.config.session.cookieName}=${alice.cookies(stack.url)[stack.config.session.cookieName]}`;
  const onSecond = async () => (await fetch(`${second}/bff/user`, { headers: { ...CSRF, cookie } })).status;
  // Read there more than once, as a session cache would need to hold it.
  expect([await onSecond(), await onSecond()]).toEqual([200, 200]);
  expect((await admin('DELETE', `/admin/sessions/${(await whoIs(alice)).publicId}`)).status).toBe(200);
  expect(await onSecond()).toBe(401);
});
