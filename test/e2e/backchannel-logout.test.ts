import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { type BrowserClient, GATEWAY_CLIENT_ID, type GatewayStack, signLogoutToken, startGatewayStack } from '#sessiongate/testing';

// OIDC Back-Channel Logout 1.0 through the real gateway: logout tokens forged with the provider's
// real key for each invalid variant, a valid one, a replay, and the real provider's own logout.

const CSRF = { 'x-csrf': '1' } as const;
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Who {
  readonly browser: BrowserClient;
  readonly sub: string;
  readonly sid: string;
}

let stack: GatewayStack;

async function login(username: string): Promise<Who> {
  const browser = await stack.loginAs(username);
  const { claims } = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{
    claims: { sub: string; sid: string };
  }>();
  return { browser, sub: claims.sub, sid: claims.sid };
}

async function status(browser: BrowserClient, base = stack.url): Promise<number> {
  return (await browser.get(`${base}/bff/user`, { headers: CSRF, from: base })).status;
}

/** Signed with the provider's own key: everything valid unless `claims` or `header` say otherwise. */
function logoutToken(claims: JWTPayload & Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return signLogoutToken(stack.idp, claims, header);
}

async function post(
  body: string | undefined,
  contentType = 'application/x-www-form-urlencoded',
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${stack.url}/bff/backchannel-logout`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const form = (token: string) => new URLSearchParams({ logout_token: token }).toString();

beforeAll(async () => {
  stack = await startGatewayStack();
});
afterAll(async () => {
  await stack.stop();
});

describe('invalid logout tokens', () => {
  let alice: Who;

  beforeAll(async () => {
    alice = await login('alice');
  });

  it.each<[string, () => Promise<string>]>([
    ['another audience', () => logoutToken({ sid: alice.sid, aud: 'another-client' })],
    ['another issuer', () => logoutToken({ sid: alice.sid, iss: 'https://evil.example' })],
    ['no events claim', () => logoutToken({ sid: alice.sid, events: undefined })],
    [
      'events without the back-channel logout event',
      () => logoutToken({ sid: alice.sid, events: { 'http://schemas.openid.net/event/other': {} } }),
    ],
    ['the event not as an object', () => logoutToken({ sid: alice.sid, events: { [EVENT]: 'yes' } })],
    ['a nonce (an ID token, say)', () => logoutToken({ sid: alice.sid, nonce: 'n-0S6_WzA2Mj' })],
    ['neither sid nor sub', () => logoutToken({})],
    ['an empty sid', () => logoutToken({ sid: '' })],
    ['no jti', () => logoutToken({ sid: alice.sid, jti: undefined })],
    ['no iat', () => logoutToken({ sid: alice.sid, iat: undefined })],
    [
      'an expired exp',
      () => logoutToken({ sid: alice.sid, iat: Math.floor(Date.now() / 1000) - 400, exp: Math.floor(Date.now() / 1000) - 300 }),
    ],
    ['an iat long past', () => logoutToken({ sid: alice.sid, iat: Math.floor(Date.now() / 1000) - 3600, exp: undefined })],
    [
      'an iat in the future',
      () => logoutToken({ sid: alice.sid, iat: Math.floor(Date.now() / 1000) + 600, exp: Math.floor(Date.now() / 1000) + 900 }),
    ],
    ['an access token type', () => logoutToken({ sid: alice.sid }, { typ: 'at+jwt' })],
    [
      'alg none',
      async () => {
        const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        return `${part({ alg: 'none', typ: 'logout+jwt' })}.${part({ iss: stack.idp.issuer, aud: GATEWAY_CLIENT_ID, iat: now, jti: 'x', events: { [EVENT]: {} }, sid: alice.sid })}.`;
      },
    ],
    [
      'a signature by another key',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ iss: stack.idp.issuer, aud: GATEWAY_CLIENT_ID, iat: now, jti: 'y', events: { [EVENT]: {} }, sid: alice.sid })
          .setProtectedHeader({ alg: 'RS256', kid: stack.idp.signingKey.kid, typ: 'logout+jwt' })
          .sign(privateKey);
      },
    ],
    [
      'a payload changed after signing',
      async () => {
        const [header, , signature] = (await logoutToken({ sid: 'someone-else' })).split('.');
        const now = Math.floor(Date.now() / 1000);
        const payload = Buffer.from(
          JSON.stringify({ iss: stack.idp.issuer, aud: GATEWAY_CLIENT_ID, iat: now, jti: 'z', events: { [EVENT]: {} }, sid: alice.sid }),
        ).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
    ],
    [
      'HS256 keyed with the public key',
      async () => {
        const pem = createPublicKey({ key: stack.idp.jwks.keys[0] as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ iss: stack.idp.issuer, aud: GATEWAY_CLIENT_ID, iat: now, jti: 'h', events: { [EVENT]: {} }, sid: alice.sid })
          .setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' })
          .sign(Buffer.from(pem));
      },
    ],
    ['garbage', async () => 'not-a-jwt'],
  ])('refuses a token with %s: 400 JSON, no-store, and the session lives on', async (_name, make) => {
    const response = await post(form(await make()));
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(JSON.parse(response.text)).toEqual({
      error: 'invalid_logout_token',
      message: expect.any(String),
      requestId: expect.any(String),
    });
    expect(await status(alice.browser)).toBe(200);
  });

  it('refuses a request without exactly one logout_token in a form body', async () => {
    const token = await logoutToken({ sid: alice.sid });
    for (const body of [undefined, '', 'logout_token=', `logout_token=${token}&logout_token=${token}`, `token=${token}`]) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    const json = await post(JSON.stringify({ logout_token: token }), 'application/json');
    expect(json.status).toBe(400);
    expect(json.headers.get('cache-control')).toBe('no-store');
    expect(await status(alice.browser)).toBe(200);
  });
});

describe('valid logout tokens', () => {
  it('end the sessions of the provider session named by sid, and only those: 200, no-store, on every instance', async () => {
    const alice = await login('alice');
    const aliceElsewhere = await login('alice');
    const bob = await login('bob');
    const second = await stack.startInstance();
    expect(await status(alice.browser, second)).toBe(200);

    const response = await post(form(await logoutToken({ sid: alice.sid, sub: alice.sub })));
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await status(alice.browser)).toBe(401);
    expect(await status(alice.browser, second)).toBe(401);
    expect(await status(aliceElsewhere.browser)).toBe(200);
    expect(await status(bob.browser)).toBe(200);
  });

  it.each([
    ['typed as plain JWT, as several providers send them', { typ: 'JWT' }],
    ['without typ', { typ: undefined }],
  ])('are accepted %s', async (_name, header) => {
    const alice = await login('alice');
    expect((await post(form(await logoutToken({ sid: alice.sid }, header)))).status).toBe(200);
    expect(await status(alice.browser)).toBe(401);
  });

  it('end every session of sub when no sid is named', async () => {
    const alice = await login('alice');
    const aliceElsewhere = await login('alice');
    const bob = await login('bob');
    expect((await post(form(await logoutToken({ sub: alice.sub })))).status).toBe(200);
    expect(await status(alice.browser)).toBe(401);
    expect(await status(aliceElsewhere.browser)).toBe(401);
    expect(await status(bob.browser)).toBe(200);
  });

  it('end only sessions matching both sid and sub when both are named, and answer 200 when nothing matched', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    expect((await post(form(await logoutToken({ sid: alice.sid, sub: bob.sub })))).status).toBe(200);
    expect(await status(alice.browser)).toBe(200);
    expect((await post(form(await logoutToken({ sid: 'unknown-sid' })))).status).toBe(200);
    // Without typ: the spec only recommends it.
    expect((await post(form(await logoutToken({ sub: 'unknown-sub' }, { typ: undefined })))).status).toBe(200);
    expect(await status(bob.browser)).toBe(200);
  });

  it('are used once: a replay is refused and ends nothing, even a session opened since in the same provider session', async () => {
    const alice = await login('alice');
    const token = await logoutToken({ sid: alice.sid });
    expect((await post(form(token))).status).toBe(200);
    expect(await status(alice.browser)).toBe(401);
    // The same browser logs in again: same provider session, same sid, a new gateway session.
    await alice.browser.login(stack.url, { username: 'alice', password: 'alice' });
    expect(await status(alice.browser)).toBe(200);

    const replay = await post(form(token));
    expect(replay.status).toBe(400);
    expect(JSON.parse(replay.text)).toMatchObject({ error: 'invalid_logout_token' });
    expect(await status(alice.browser)).toBe(200);
    const remembered = await stack.redis.client.keys('sg:jti:*');
    expect(remembered.length).toBeGreaterThan(0);
    for (const key of remembered) expect(await stack.redis.client.pttl(key)).toBeLessThanOrEqual((600 + 60) * 1000);
  });

  it('are audited, as done by the provider', async () => {
    const entries = (await stack.redis.client.xrange('sg:audit', '-', '+')).map(([, fields]) => fields);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((fields) => fields.includes('idp') && fields.includes('backchannel_logout'))).toBe(true);
  });
});

describe("the provider's own back-channel logout", () => {
  it('ends the gateway session when the user logs out at the provider', async () => {
    const alice = await login('alice');
    const second = await stack.startInstance();
    stack.idp.events.length = 0;
    // RP-initiated logout straight at the provider, as another application of the same user would do it.
    const confirm = await alice.browser.get(`${stack.idp.issuer}/session/end`, { from: null });
    expect(confirm.status).toBe(200);
    const done = await alice.browser.submitForm(confirm.body);
    expect(done.status).toBe(200);

    expect(stack.idp.events).toContainEqual({ name: 'backchannel.success', clientId: GATEWAY_CLIENT_ID, sid: alice.sid });
    expect(await status(alice.browser)).toBe(401);
    expect(await status(alice.browser, second)).toBe(401);
  });

  it("leaves nothing to do after the gateway's own logout (the session is already gone): still 200", async () => {
    const bob = await login('bob');
    const { logoutUrl } = (await bob.browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{
      logoutUrl: string;
    }>();
    stack.idp.events.length = 0;
    const atProvider = await bob.browser.get(`${stack.url}${logoutUrl}`, { from: stack.url });
    const done = await bob.browser.submitForm(atProvider.body);
    // Back at the gateway's post-logout page (no SPA in this stack: its 404).
    expect(new URL(done.url).origin).toBe(new URL(stack.url).origin);
    expect(stack.idp.events.filter((event) => event.name.startsWith('backchannel.'))).toEqual([
      { name: 'backchannel.success', clientId: GATEWAY_CLIENT_ID, sid: bob.sid },
    ]);
    expect(await status(bob.browser)).toBe(401);
  });
});
