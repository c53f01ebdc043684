import { createHash, randomBytes } from 'node:crypto';
import { type GatewayStack, signLogoutToken, startGatewayStack } from '#sessiongate/testing';

// SESSION_ENCRYPTION_KEY rotation on a real Redis and provider: sessions sealed under the old key stay
// usable, listable and revocable under `k2,k1` (same Redis key names), are resealed with k2 on their
// next write, and once k1 is dropped only those still under it end, with a clean 401.

const CSRF = { 'x-csrf': '1' } as const;
const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const ROTATED = { SESSION_ENCRYPTION_KEY: `k2:${k2},${k1}`, SESSION_INDEX_KEY: k1 };
const DROPPED = { SESSION_ENCRYPTION_KEY: `k2:${k2}`, SESSION_INDEX_KEY: k1 };

interface Login {
  readonly cookie: string;
  readonly keyHash: string;
  readonly sid: string;
  publicId?: string;
}

let stack: GatewayStack;
let adminToken: string;

async function login(username: string): Promise<Login> {
  const browser = await stack.loginAs(username);
  const cookie = browser.cookies(stack.url)[stack.config.session.cookieName]!;
  const user = await bffUser(stack.url, cookie);
  return {
    cookie,
    keyHash: createHash('sha256').update(cookie).digest('base64url'),
    sid: ((await user.json()) as { claims: { sid: string } }).claims.sid,
  };
}

function bffUser(base: string, cookie: string): Promise<Response> {
  return fetch(`${base}/bff/user`, { headers: { ...CSRF, cookie: `${stack.config.session.cookieName}=${cookie}` } });
}

function admin(base: string, method: string, path: string): Promise<Response> {
  return fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${adminToken}` } });
}

/** The key id the session's blob is sealed under, read from Redis. */
async function sealedUnder(session: Login): Promise<string | undefined> {
  const blob = await stack.redis.client.hget(`sg:{${session.keyHash}}:s`, 'd');
  return blob?.split('.').slice(0, 2).join('.');
}

async function redisKeys(): Promise<string[]> {
  return (await stack.redis.client.keys('sg:*')).filter((key) => key !== 'sg:audit').sort();
}

let byPublicId: Login;
let bySub: Login;
let bySid: Login;
let resealed: Login;
let stillOld: Login;
let rotated: string;
let legacyKeyId: string;

beforeAll(async () => {
  // The single-key format every deployment had before rotation.
  stack = await startGatewayStack({ env: { SESSION_ENCRYPTION_KEY: k1 } });
  adminToken = await stack.adminToken();
  [byPublicId, bySub, bySid, resealed, stillOld] = [
    await login('alice'),
    await login('bob'),
    await login('alice'),
    await login('alice'),
    await login('alice'),
  ];
  legacyKeyId = stack.config.session.encryptionKeys[0]!.id;
});
afterAll(async () => {
  await stack.stop();
});

test('before the rotation, every session is sealed under the single key, named by its fingerprint', async () => {
  for (const session of [byPublicId, bySub, bySid, resealed, stillOld])
    await expect(sealedUnder(session)).resolves.toBe(`v2.${legacyKeyId}`);
});

describe('after rotating to k2,k1', () => {
  let keysBefore: string[];

  beforeAll(async () => {
    keysBefore = await redisKeys();
    rotated = await stack.startInstance(ROTATED);
  });

  test('every session is still usable, and no Redis key was renamed', async () => {
    for (const session of [byPublicId, bySub, bySid, resealed, stillOld]) expect((await bffUser(rotated, session.cookie)).status).toBe(200);
    expect(await redisKeys()).toEqual(keysBefore);
  });

  test("a user's sessions are listed through the unchanged index", async () => {
    const response = await admin(rotated, 'GET', '/admin/sessions?sub=u-1001');
    expect(response.status).toBe(200);
    const { sessions } = (await response.json()) as { sessions: { id: string; idpSessionId: string }[] };
    expect(sessions.map((session) => session.idpSessionId).sort()).toEqual([byPublicId.sid, bySid.sid, resealed.sid, stillOld.sid].sort());
    byPublicId.publicId = sessions.find((session) => session.idpSessionId === byPublicId.sid)!.id;
  });

  test('a session is revoked by its public id', async () => {
    expect((await admin(rotated, 'DELETE', `/admin/sessions/${byPublicId.publicId}`)).status).toBe(200);
    expect((await bffUser(rotated, byPublicId.cookie)).status).toBe(401);
  });

  test("a user's sessions are revoked by sub", async () => {
    const response = await admin(rotated, 'DELETE', '/admin/users/u-1002/sessions');
    expect(((await response.json()) as { revoked: string[] }).revoked).toHaveLength(1);
    expect((await bffUser(rotated, bySub.cookie)).status).toBe(401);
  });

  test("a provider session's sessions are revoked by sid (back-channel logout)", async () => {
    const response = await fetch(`${rotated}/bff/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: await signLogoutToken(stack.idp, { sid: bySid.sid }) }).toString(),
    });
    expect(response.status).toBe(200);
    expect((await bffUser(rotated, bySid.cookie)).status).toBe(401);
    expect(await stack.redis.client.exists(`sg:{${bySid.keyHash}}:s`)).toBe(0);
  });

  test('a session is resealed with k2 on its next write (a token refresh), and only then', async () => {
    await expect(sealedUnder(resealed)).resolves.toBe(`v2.${legacyKeyId}`);
    // A refresh skew longer than any token's life: the next API call refreshes, which rewrites the session.
    const refreshing = await stack.startInstance({ ...ROTATED, TOKEN_REFRESH_SKEW: '86400' });
    const response = await fetch(`${refreshing}/api/echo/x`, {
      headers: { ...CSRF, cookie: `${stack.config.session.cookieName}=${resealed.cookie}` },
    });
    expect(response.status).toBe(200);
    await expect(sealedUnder(resealed)).resolves.toBe('v2.k2');
    await expect(sealedUnder(stillOld)).resolves.toBe(`v2.${legacyKeyId}`);
  });
});

describe('after dropping k1', () => {
  let dropped: string;

  beforeAll(async () => {
    dropped = await stack.startInstance(DROPPED);
  });

  test('a session resealed under k2 goes on', async () => {
    expect((await bffUser(dropped, resealed.cookie)).status).toBe(200);
  });

  test('a session still under k1 ends cleanly: 401 unauthenticated, deleted with its index entries', async () => {
    const response = await bffUser(dropped, stillOld.cookie);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('unauthenticated');
    expect(await stack.redis.client.exists(`sg:{${stillOld.keyHash}}:s`, `sg:meta:{${stillOld.keyHash}}`)).toBe(0);
    const listed = await admin(dropped, 'GET', '/admin/sessions?sub=u-1001');
    expect(((await listed.json()) as { sessions: { idpSessionId: string }[] }).sessions.map((session) => session.idpSessionId)).toEqual([
      resealed.sid,
    ]);
    const entries = await stack.redis.client.zrange('sg:sessions', '0', '-1');
    expect(entries.filter((entry) => entry.endsWith(stillOld.keyHash))).toEqual([]);
  });
});
