import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { generateKeyPair, importJWK, type JWTPayload, SignJWT } from 'jose';
import {
  ADMIN_AUDIENCE,
  type BrowserClient,
  freePort,
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  type GatewayStack,
  leakedSecrets,
  startGatewayStack,
  TODOS_RESOURCE,
} from '#sessiongate/testing';

// The admin API through the real gateway: tokens from the real provider (client credentials),
// forged ones refused, sessions listed and revoked, the revocation seen at once by a second instance.

const CSRF = { 'x-csrf': '1' } as const;

interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
}

interface SessionView {
  readonly id: string;
  readonly sub: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
  readonly userAgent?: string;
  readonly ip?: string;
  readonly hasRefreshToken: boolean;
  readonly accessTokens: { readonly resource?: string; readonly routes: string[] }[];
}

interface SessionPage {
  readonly sessions: SessionView[];
  readonly nextCursor: string | null;
}

interface LoggedIn {
  readonly browser: BrowserClient;
  /** What the provider's token endpoint issued for this login. */
  readonly issued: { readonly access_token: string; readonly refresh_token: string; readonly id_token: string };
}

let stack: GatewayStack;
let adminToken: string;
/** Every token issued in this file: none may ever appear in an admin response. */
const secrets: string[] = [];

async function login(username: string): Promise<LoggedIn> {
  let issued: LoggedIn['issued'] | undefined;
  stack.idp.onTokenResponse = (body) => {
    issued = body as unknown as LoggedIn['issued'];
  };
  try {
    const browser = await stack.loginAs(username);
    secrets.push(
      issued!.access_token,
      issued!.refresh_token,
      issued!.id_token,
      browser.cookies(stack.url)[stack.config.session.cookieName]!,
    );
    return { browser, issued: issued! };
  } finally {
    stack.idp.onTokenResponse = undefined;
  }
}

/** `token` null: no Authorization header at all. */
async function admin(
  method: string,
  path: string,
  token: string | null = adminToken,
  base = stack.gateway.adminUrl!,
): Promise<{ status: number; headers: Headers; body: string; json<T>(): T }> {
  const response = await fetch(`${base}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const body = await response.text();
  for (const secret of secrets) expect(body).not.toContain(secret);
  return { status: response.status, headers: response.headers, body, json: <T>() => JSON.parse(body) as T };
}

/** A token signed with the provider's real key: as valid as it gets, except for what `claims` changes. */
async function forged(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const key = await importJWK(stack.idp.signingKey, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: stack.idp.issuer,
    aud: ADMIN_AUDIENCE,
    sub: 'ops-console',
    scope: 'sessions:admin',
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: stack.idp.signingKey.kid, typ: 'at+jwt', ...header })
    .sign(key);
}

function unsigned(payload: JWTPayload, header: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.`;
}

function hs256(payload: JWTPayload, secret: Buffer, kid: string | undefined): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', ...(kid ? { kid } : {}) }).sign(secret);
}

async function sessionStatus(browser: BrowserClient, base: string): Promise<[number, number]> {
  const user = await browser.get(`${base}/bff/user`, { headers: CSRF, from: base });
  const api = await browser.get(`${base}/api/echo/anything`, { headers: CSRF, from: base });
  return [user.status, api.status];
}

beforeAll(async () => {
  stack = await startGatewayStack();
  adminToken = await stack.adminToken();
  secrets.push(adminToken);
});
afterAll(async () => {
  await stack.stop();
});

describe('admin bearer tokens', () => {
  const validClaims = () => ({
    iss: stack.idp.issuer,
    aud: ADMIN_AUDIENCE,
    sub: 'attacker',
    scope: 'sessions:admin',
    exp: Math.floor(Date.now() / 1000) + 300,
  });

  it('accepts a client-credentials token from the provider with the admin audience and scope', async () => {
    const response = await admin('GET', '/admin/sessions');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.json<SessionPage>()).toEqual({ sessions: expect.any(Array), nextCursor: null });
  });

  it('answers 401 with a JSON error and a Bearer challenge without a token or with a garbage one', async () => {
    for (const token of [null, 'garbage', 'a.b.c', '']) {
      const response = await admin('GET', '/admin/sessions', token);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(response.json<ErrorBody>()).toEqual({ error: 'invalid_token', message: expect.any(String), requestId: expect.any(String) });
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const basic = await fetch(`${stack.gateway.adminUrl}/admin/sessions`, {
      headers: { authorization: `Basic ${Buffer.from('ops:ops').toString('base64')}` },
    });
    expect(basic.status).toBe(401);
    // The console's paths skip the bearer check; with the console off (no ADMIN_CONSOLE_REQUIRE) there is nothing there.
    const noConsole = await fetch(`${stack.gateway.adminUrl}/admin/console/api/sessions`, { headers: { 'x-csrf': '1' } });
    expect([noConsole.status, ((await noConsole.json()) as ErrorBody).error]).toEqual([404, 'not_found']);
  });

  it('refuses a token signed with another key, whatever kid it names', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    for (const kid of [stack.idp.signingKey.kid!, 'some-other-kid', undefined]) {
      const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}) }).sign(privateKey);
      expect((await admin('GET', '/admin/sessions', token)).status).toBe(401);
    }
  });

  it('refuses alg none, and HS256 "signed" with the provider\'s public key (PEM or JWK bytes)', async () => {
    const kid = stack.idp.signingKey.kid!;
    expect((await admin('GET', '/admin/sessions', unsigned(validClaims(), { alg: 'none', kid }))).status).toBe(401);
    expect((await admin('GET', '/admin/sessions', unsigned(validClaims(), { alg: 'none' }))).status).toBe(401);
    const publicJwk = stack.idp.jwks.keys[0]!;
    const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    for (const secret of [Buffer.from(pem), Buffer.from(JSON.stringify(publicJwk)), Buffer.from(publicJwk.n!, 'base64url')]) {
      expect((await admin('GET', '/admin/sessions', await hs256(validClaims(), secret, kid))).status).toBe(401);
      expect((await admin('GET', '/admin/sessions', await hs256(validClaims(), secret, undefined))).status).toBe(401);
    }
  });

  it('refuses an expired, not yet valid or never expiring token, beyond a small leeway', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await admin('GET', '/admin/sessions', await forged({ iat: now - 600, exp: now - 120 }))).status).toBe(401);
    expect((await admin('GET', '/admin/sessions', await forged({ nbf: now + 300 }))).status).toBe(401);
    expect((await admin('GET', '/admin/sessions', await forged({ exp: undefined }))).status).toBe(401);
    // Within the leeway, clocks a few seconds apart still work.
    expect((await admin('GET', '/admin/sessions', await forged({ exp: now - 5 }))).status).toBe(200);
  });

  it('refuses a wrong audience or issuer, and the user tokens the provider issues to the gateway', async () => {
    expect((await admin('GET', '/admin/sessions', await forged({ aud: TODOS_RESOURCE }))).status).toBe(401);
    expect((await admin('GET', '/admin/sessions', await forged({ aud: [TODOS_RESOURCE, 'http://other.test'] }))).status).toBe(401);
    expect((await admin('GET', '/admin/sessions', await forged({ iss: 'https://evil.example' }))).status).toBe(401);
    expect((await admin('GET', '/admin/sessions', await forged({ iss: `${stack.idp.issuer}/` }))).status).toBe(401);
    const { issued } = await login('bob');
    expect((await admin('GET', '/admin/sessions', issued.access_token)).status).toBe(401);
    expect((await admin('GET', '/admin/sessions', issued.id_token)).status).toBe(401);
  });

  it('answers 403 to a valid token without the required scope, and accepts it from scp or roles', async () => {
    const readOnly = await stack.adminToken('sessions:read');
    secrets.push(readOnly);
    const refused = await admin('GET', '/admin/sessions', readOnly);
    expect(refused.status).toBe(403);
    expect(refused.json<ErrorBody>()).toMatchObject({ error: 'insufficient_scope' });
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="sessions:admin"');
    expect((await admin('GET', '/admin/sessions', await forged({ scope: 'sessions:admin2 other' }))).status).toBe(403);
    expect((await admin('DELETE', '/admin/users/u-1001/sessions', readOnly)).status).toBe(403);

    expect((await admin('GET', '/admin/sessions', await forged({ scope: undefined, scp: ['openid', 'sessions:admin'] }))).status).toBe(200);
    expect((await admin('GET', '/admin/sessions', await forged({ scope: undefined, roles: ['sessions:admin'] }))).status).toBe(200);
  });
});

describe('listing and revoking sessions', () => {
  let alice: LoggedIn;
  let aliceElsewhere: LoggedIn;
  let bob: LoggedIn;
  let secondInstance: string;
  let aliceSub: string;

  beforeAll(async () => {
    await stack.redis.client.flushall();
    alice = await login('alice');
    aliceElsewhere = await login('alice');
    bob = await login('bob');
    secondInstance = await stack.startInstance();
    aliceSub = (
      await alice.browser
        .get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })
        .then((page) => page.json<{ claims: { sub: string } }>())
    ).claims.sub;
  });

  it("lists every session a page at a time, and one user's, without a token in sight", async () => {
    const all = await admin('GET', '/admin/sessions');
    expect(all.json<SessionPage>().sessions).toHaveLength(3);
    const [first] = all.json<SessionPage>().sessions;
    expect(first).toMatchObject({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      hasRefreshToken: true,
      userAgent: expect.any(String),
      ip: expect.any(String),
    });
    expect(first!.accessTokens).toEqual([{ expiresAt: expect.any(String), routes: ['/api/todos', '/api/echo'] }]);

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: SessionPage = (
        await admin('GET', `/admin/sessions?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      ).json<SessionPage>();
      ids.push(...page.sessions.map((session) => session.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(ids).size).toBe(3);

    const alices = (await admin('GET', `/admin/sessions?sub=${encodeURIComponent(aliceSub)}`)).json<SessionPage>().sessions;
    expect(alices.map((session) => session.sub)).toEqual([aliceSub, aliceSub]);
  });

  it('answers 400 to a bad limit or cursor', async () => {
    for (const query of ['limit=0', 'limit=501', 'limit=ten', 'limit=1&limit=2', 'sub=']) {
      expect((await admin('GET', `/admin/sessions?${query}`)).json<ErrorBody>()).toMatchObject({ error: 'invalid_request' });
    }
    const badCursor = await admin('GET', '/admin/sessions?cursor=not-a-cursor');
    expect(badCursor.status).toBe(400);
    expect(badCursor.json<ErrorBody>()).toMatchObject({ error: 'invalid_cursor' });
  });

  it('shows one session by its public id, and 404 for an unknown one', async () => {
    const [listed] = (await admin('GET', `/admin/sessions?sub=${encodeURIComponent(aliceSub)}&limit=1`)).json<SessionPage>().sessions;
    const shown = await admin('GET', `/admin/sessions/${listed!.id}`);
    expect(shown.status).toBe(200);
    expect(shown.json<SessionView>()).toEqual(listed);
    const unknown = await admin('GET', '/admin/sessions/AAAAAAAAAAAAAAAAAAAAAA');
    expect(unknown.status).toBe(404);
    expect(unknown.json<ErrorBody>()).toMatchObject({ error: 'session_not_found' });
  });

  it('revokes a session: its next request fails on this instance and on another, and its refresh token is dead at the provider', async () => {
    expect(await sessionStatus(alice.browser, stack.url)).toEqual([200, 200]);
    expect(await sessionStatus(alice.browser, secondInstance)).toEqual([200, 200]);
    const userInfo = (await alice.browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{ logoutUrl: string }>();
    const publicId = new URL(userInfo.logoutUrl, stack.url).searchParams.get('sid')!;

    const revoked = await admin('DELETE', `/admin/sessions/${publicId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json()).toEqual({ revoked: [publicId] });

    expect(await sessionStatus(alice.browser, secondInstance)).toEqual([401, 401]);
    expect(await sessionStatus(alice.browser, stack.url)).toEqual([401, 401]);
    expect(await sessionStatus(aliceElsewhere.browser, secondInstance)).toEqual([200, 200]);

    const refresh = await fetch(`${stack.idp.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${GATEWAY_CLIENT_ID}:${encodeURIComponent(GATEWAY_CLIENT_SECRET)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: alice.issued.refresh_token }),
    });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');

    const again = await admin('DELETE', `/admin/sessions/${publicId}`);
    expect(again.status).toBe(404);
    expect(again.json<ErrorBody>()).toMatchObject({ error: 'session_not_found' });
  });

  it("revokes every session of a user, on every instance, and no one else's", async () => {
    const response = await admin('DELETE', `/admin/users/${encodeURIComponent(aliceSub)}/sessions`);
    expect(response.status).toBe(200);
    expect(response.json<{ revoked: string[] }>().revoked).toHaveLength(1);
    expect(await sessionStatus(aliceElsewhere.browser, stack.url)).toEqual([401, 401]);
    expect(await sessionStatus(aliceElsewhere.browser, secondInstance)).toEqual([401, 401]);
    expect(await sessionStatus(bob.browser, secondInstance)).toEqual([200, 200]);
    expect((await admin('DELETE', `/admin/users/${encodeURIComponent(aliceSub)}/sessions`)).json()).toEqual({ revoked: [] });
    expect((await admin('GET', `/admin/sessions?sub=${encodeURIComponent(aliceSub)}`)).json<SessionPage>().sessions).toEqual([]);
  });

  it('audits each revocation in the log and in the sg:audit stream', async () => {
    const entries = (await stack.redis.client.xrange('sg:audit', '-', '+')).map(([, fields]) => Object.fromEntries(chunk(fields)));
    expect(entries).toEqual([
      {
        at: expect.any(String),
        actor: 'admin:ops-console',
        action: 'revoke_session',
        target: expect.stringMatching(/^session:/),
        sessions: expect.any(String),
        users: JSON.stringify([aliceSub]),
      },
      {
        at: expect.any(String),
        actor: 'admin:ops-console',
        action: 'revoke_user_sessions',
        target: `user:${aliceSub}`,
        sessions: expect.any(String),
        users: JSON.stringify([aliceSub]),
      },
      {
        at: expect.any(String),
        actor: 'admin:ops-console',
        action: 'revoke_user_sessions',
        target: `user:${aliceSub}`,
        sessions: '',
        users: '[]',
      },
    ]);
    const logged = stack.logs.map((line) => JSON.parse(line) as { audit?: { actor: string; action: string } }).filter((line) => line.audit);
    expect(logged.map((line) => line.audit!.action)).toEqual(['revoke_session', 'revoke_user_sessions', 'revoke_user_sessions']);
    expect(leakedSecrets(stack.logs, secrets)).toEqual([]);
  });
});

describe('the OpenAPI description', () => {
  it('is served at /admin/docs, as a page and as JSON naming every operation and the bearer scheme', async () => {
    const page = await fetch(`${stack.url}/admin/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger-ui');
    const css = await fetch(`${stack.url}/admin/docs/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(await css.text()).toContain('.swagger-ui');
    const document = (await (await fetch(`${stack.url}/admin/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(Object.keys(document.paths).sort()).toEqual(['/admin/sessions', '/admin/sessions/{id}', '/admin/users/{sub}/sessions']);
    expect(Object.keys(document.paths['/admin/sessions/{id}']!).sort()).toEqual(['delete', 'get']);
    expect(document.paths['/admin/sessions']!.get!.security).toEqual([{ bearer: [] }]);
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});

describe('where the admin API is served', () => {
  it('on its own port with ADMIN_PORT: nothing else there, and no /admin on the public port', async () => {
    const separate = await startGatewayStack({ env: { ADMIN_PORT: String(await freePort()) } });
    try {
      const token = await separate.adminToken();
      expect(separate.gateway.adminUrl).not.toBe(separate.gateway.url);
      const onAdminPort = await fetch(`${separate.gateway.adminUrl}/admin/sessions`, { headers: { authorization: `Bearer ${token}` } });
      expect(onAdminPort.status).toBe(200);
      expect((await fetch(`${separate.gateway.adminUrl}/admin/sessions`)).status).toBe(401);
      expect((await fetch(`${separate.gateway.adminUrl}/admin/docs/openapi.json`)).status).toBe(200);
      const onPublicPort = await fetch(`${separate.url}/admin/sessions`, { headers: { authorization: `Bearer ${token}` } });
      expect(onPublicPort.status).toBe(404);
      expect((await fetch(`${separate.url}/admin/docs`)).status).toBe(404);
      expect((await fetch(`${separate.gateway.adminUrl}/bff/user`, { headers: CSRF })).status).toBe(404);
      // Both listeners check tokens with their own settings, even with another gateway in this process.
      expect((await fetch(`${stack.gateway.adminUrl}/admin/sessions`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      expect(
        (await fetch(`${separate.gateway.adminUrl}/admin/sessions`, { headers: { authorization: `Bearer ${adminToken}` } })).status,
      ).toBe(401);
    } finally {
      await separate.stop();
    }
  });

  it('nowhere without ADMIN_JWT_AUDIENCE', async () => {
    const off = await startGatewayStack({ env: { ADMIN_JWT_AUDIENCE: '' } });
    try {
      expect(off.gateway.adminUrl).toBeUndefined();
      expect((await fetch(`${off.url}/admin/sessions`, { headers: { authorization: `Bearer ${await off.adminToken()}` } })).status).toBe(
        404,
      );
      expect((await fetch(`${off.url}/admin/docs`)).status).toBe(404);
    } finally {
      await off.stop();
    }
  });
});

function chunk(fields: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let index = 0; index < fields.length; index += 2) pairs.push([fields[index]!, fields[index + 1]!]);
  return pairs;
}
