import { createHmac, createPrivateKey, generateKeyPairSync, type JsonWebKey, type KeyObject, sign } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JWTPayload, jwtVerify, type ProtectedHeaderParameters } from 'jose';
import { type BrowserResponse, GATEWAY_CLIENT_ID, GATEWAY_CLIENT_SECRET, type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// Every login here is genuine (the real provider, the real user, the real code) except the ID token
// in the provider's token response, which is replaced on its way out (`idp.onTokenResponse`).
//
// That hook is synchronous (the provider sends whatever it returns), and jose only signs
// asynchronously, so the forged tokens are signed with node:crypto (the same RSA/HMAC primitives
// jose would use); jose checks the result: the positive control verifies against the provider's JWKS.

const RETURN_TO = '/after-login';
const CSRF = { 'x-csrf': '1' };
const OTHER_CLIENT = 'another-client';
const now = () => Math.floor(Date.now() / 1000);

interface IdToken {
  readonly header: ProtectedHeaderParameters;
  readonly claims: JWTPayload;
  readonly compact: string;
}

type Signer = (signingInput: string) => Buffer;

const rsa =
  (hash: 'sha256' | 'sha384', key: KeyObject): Signer =>
  (input) =>
    sign(hash, Buffer.from(input), key);
const hs256 =
  (secret: string): Signer =>
  (input) =>
    createHmac('sha256', secret).update(input).digest();
const unsigned: Signer = () => Buffer.alloc(0);

function compactJws(header: object, claims: JWTPayload, signer: Signer): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${signer(input).toString('base64url')}`;
}

/** The same token with one bit of its signature (not of its base64url padding) flipped. */
function flipSignatureBit(compact: string): string {
  const [header, payload, signature] = compact.split('.') as [string, string, string];
  const bytes = Buffer.from(signature, 'base64url');
  bytes[bytes.length >> 1] ^= 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

/** The genuine claims with some replaced; `undefined` removes a claim. */
function changed(claims: JWTPayload, changes: Record<string, unknown>): JWTPayload {
  const result: Record<string, unknown> = { ...claims, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete result[name];
  return result;
}

interface Presented {
  readonly genuine: IdToken[];
  readonly forged: string[];
}

/** From now on, the provider's token responses carry `forge(genuine ID token)` instead of the genuine one. */
function presentIdToken(stack: GatewayStack, forge: (genuine: IdToken) => string): Presented {
  const presented: Presented = { genuine: [], forged: [] };
  stack.idp.onTokenResponse = (body) => {
    if (typeof body.id_token !== 'string') return;
    const genuine = { header: decodeProtectedHeader(body.id_token), claims: decodeJwt(body.id_token), compact: body.id_token };
    presented.genuine.push(genuine);
    presented.forged.push(forge(genuine));
    return { ...body, id_token: presented.forged.at(-1) };
  };
  return presented;
}

const sessionCount = (stack: GatewayStack) => stack.redis.client.keys('sg:{*}:s').then((keys) => keys.length);

describe('ID token validation at login', () => {
  let stack: GatewayStack;
  let providerKey: KeyObject;
  const attackerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  /** A whole login as alice in a fresh browser, the provider's token response altered by `forge`. */
  async function loginWith(forge: (genuine: IdToken) => string) {
    const presented = presentIdToken(stack, forge);
    const browser = stack.browser();
    const sessionsBefore = await sessionCount(stack);
    const landing = await browser.login(stack.url, { username: 'alice', password: 'alice', returnTo: RETURN_TO });
    expect(presented.forged).toHaveLength(1);
    return { browser, landing, presented, sessionsBefore };
  }

  beforeAll(async () => {
    stack = await startGatewayStack();
    providerKey = createPrivateKey({ key: stack.idp.signingKey as JsonWebKey, format: 'jwk' });
  });

  afterEach(() => {
    stack.idp.onTokenResponse = undefined;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('accepts the genuine claims re-signed with the provider key (the harness itself breaks nothing)', async () => {
    // The claims in another order: the same token to a validator, but bytes the provider never sent.
    const reordered = (claims: JWTPayload) => Object.fromEntries(Object.entries(claims).reverse());
    const { browser, landing, presented, sessionsBefore } = await loginWith(({ header, claims }) =>
      compactJws(header, reordered(claims), rsa('sha256', providerKey)),
    );

    const genuine = presented.genuine[0]!;
    const forged = presented.forged[0]!;
    // RS256 (PKCS#1 v1.5) is deterministic: the harness's signer reproduces the provider's token exactly.
    expect(compactJws(genuine.header, genuine.claims, rsa('sha256', providerKey))).toBe(genuine.compact);
    expect(forged).not.toBe(genuine.compact);
    const verified = await jwtVerify(forged, createLocalJWKSet({ keys: [...stack.idp.jwks.keys] }), {
      algorithms: ['RS256'],
      issuer: stack.idp.issuer,
      audience: GATEWAY_CLIENT_ID,
    });
    expect(verified.payload).toEqual(genuine.claims);

    const callbackHop = landing.redirects.find((hop) => new URL(hop.url).pathname === '/bff/callback');
    expect(callbackHop).toMatchObject({ status: 302, location: RETURN_TO });
    expect(browser.cookies(stack.url)[stack.config.session.cookieName]).toBeDefined();
    expect(await sessionCount(stack)).toBe(sessionsBefore + 1);
    const user = await browser.get(`${stack.url}/bff/user`, { headers: CSRF });
    expect(user.status).toBe(200);
    expect(user.json<{ claims: JWTPayload }>().claims.sub).toBe(genuine.claims.sub);
  });

  const real = () => rsa('sha256', providerKey);
  /** The genuine token's header and claims, `changes` applied, signed RS256 with the provider's real key. */
  const withClaims =
    (changes: (genuine: JWTPayload) => Record<string, unknown>) =>
    ({ header, claims }: IdToken) =>
      compactJws(header, changed(claims, changes(claims)), real());

  const forgeries: readonly [string, (genuine: IdToken) => string][] = [
    ['a signature bit flipped', ({ compact }) => flipSignatureBit(compact)],
    ['signed by an attacker key under the provider kid', ({ header, claims }) => compactJws(header, claims, rsa('sha256', attackerKey))],
    ['alg none (unsigned)', ({ header, claims }) => compactJws({ ...header, alg: 'none' }, claims, unsigned)],
    [
      'HS256 with the client secret as key',
      ({ header, claims }) => compactJws({ ...header, alg: 'HS256' }, claims, hs256(GATEWAY_CLIENT_SECRET)),
    ],
    [
      'RS384 with the provider key (RS256 pinned)',
      ({ header, claims }) => compactJws({ ...header, alg: 'RS384' }, claims, rsa('sha384', providerKey)),
    ],
    ['iss of another issuer', withClaims(({ iss }) => ({ iss: `${iss}/other` }))],
    ['aud another client', withClaims(() => ({ aud: OTHER_CLIENT }))],
    ['aud with our client and another, no azp', withClaims(() => ({ aud: [GATEWAY_CLIENT_ID, OTHER_CLIENT], azp: undefined }))],
    [
      'azp another client (aud with our client and another)',
      withClaims(() => ({ aud: [GATEWAY_CLIENT_ID, OTHER_CLIENT], azp: OTHER_CLIENT })),
    ],
    ['azp another client (aud our client only)', withClaims(() => ({ aud: GATEWAY_CLIENT_ID, azp: OTHER_CLIENT }))],
    ['exp in the past', withClaims(() => ({ exp: now() - 300 }))],
    ['iat one hour in the future', withClaims(() => ({ iat: now() + 3600 }))],
    ['sub missing', withClaims(() => ({ sub: undefined }))],
    ['nonce altered', withClaims(({ nonce }) => ({ nonce: `${String(nonce).slice(0, -1)}${String(nonce).endsWith('A') ? 'B' : 'A'}` }))],
    ['nonce missing', withClaims(() => ({ nonce: undefined }))],
  ];

  it.each(forgeries)('refuses an ID token with %s: 400 invalid_id_token, no session', async (_case, forge) => {
    const { browser, landing, presented, sessionsBefore } = await loginWith(forge);

    expectInvalidIdToken(stack, landing, presented);
    expect(browser.cookies(stack.url)).toEqual({});
    expect(await sessionCount(stack)).toBe(sessionsBefore);
    expect((await browser.get(`${stack.url}/bff/user`, { headers: CSRF })).status).toBe(401);
  });
});

/** The callback's own answer: the error shape, the pre-login cookie cleared, no session cookie, no token echoed. */
function expectInvalidIdToken(stack: GatewayStack, landing: BrowserResponse, presented: Presented): void {
  const { cookieName, loginCookieName } = stack.config.session;
  expect(new URL(landing.url).pathname).toBe('/bff/callback');
  expect(landing.status).toBe(400);
  expect(landing.json()).toEqual({ error: 'invalid_id_token', message: expect.any(String), requestId: expect.stringMatching(/\S/) });
  for (const token of [...presented.forged, presented.genuine[0]!.compact]) {
    expect(landing.body).not.toContain(token.split('.')[1]);
  }
  const setCookies = landing.headers.getSetCookie();
  expect(setCookies.some((cookie) => cookie.startsWith(`${loginCookieName}=;`) && /;\s*Max-Age=0\b/i.test(cookie))).toBe(true);
  expect(setCookies.filter((cookie) => cookie.startsWith(`${cookieName}=`))).toEqual([]);
}
