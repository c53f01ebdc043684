import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type JWTPayload, SignJWT } from 'jose';
import * as client from 'openid-client';
import { BrowserClient, type DemoApi, type IdentityProvider, startDemoApi, startIdentityProvider } from '#sessiongate/testing';

// The real demo provider and API, with openid-client 6 as the relying party and BrowserClient as the user.
const TODOS = 'urn:sessiongate:test:todos';
const OTHER = 'urn:sessiongate:test:other';
// Like any client of a real provider, it asks for the scopes of the APIs it will call.
const SCOPE = 'openid profile email offline_access todos:read todos:write other:read';

let idp: IdentityProvider;
let api: DemoApi;
let rp: Server;
let redirectUri: string;
let postLogoutRedirectUri: string;
let config: client.Configuration;
/** Bodies of the back-channel logout requests the RP received. */
const backchannelLogouts: URLSearchParams[] = [];

beforeAll(async () => {
  // The RP's callback only has to exist: the browser's journey ends there, with the code in the URL.
  rp = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    if (request.url === '/backchannel') backchannelLogouts.push(new URLSearchParams(body));
    response.end('ok');
  }).listen(0, '127.0.0.1');
  await once(rp, 'listening');
  const rpOrigin = `http://127.0.0.1:${(rp.address() as AddressInfo).port}`;
  redirectUri = `${rpOrigin}/callback`;
  postLogoutRedirectUri = `${rpOrigin}/`;
  idp = await startIdentityProvider({
    clients: [
      {
        client_id: 'rp',
        client_secret: 'rp-secret',
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [postLogoutRedirectUri],
        backchannel_logout_uri: `${rpOrigin}/backchannel`,
      },
    ],
    resources: { [TODOS]: { scope: 'todos:read todos:write' }, [OTHER]: { scope: 'other:read' } },
    defaultResource: TODOS,
  });
  api = await startDemoApi({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: TODOS, requiredScope: 'todos:read' });
  config = await client.discovery(new URL(idp.issuer), 'rp', undefined, client.ClientSecretBasic('rp-secret'), {
    execute: [client.allowInsecureRequests],
  });
});

afterAll(async () => {
  await api?.stop();
  await idp?.stop();
  rp?.closeAllConnections();
  rp?.close();
});

afterEach(() => {
  idp.onTokenResponse = undefined;
  idp.tokenEndpointFault = undefined;
});

interface Authorization {
  readonly url: URL;
  readonly codeVerifier: string;
  readonly state: string;
  readonly nonce: string;
}

async function authorizationRequest(): Promise<Authorization> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, codeVerifier, state, nonce };
}

function exchange(authorization: Authorization, callbackUrl: string) {
  return client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: authorization.codeVerifier,
    expectedState: authorization.state,
    expectedNonce: authorization.nonce,
    idTokenExpected: true,
  });
}

/** The whole code flow, the user signing in on the provider's form. */
async function logIn(browser: BrowserClient, username: string, password = username) {
  const authorization = await authorizationRequest();
  const form = await browser.get(authorization.url);
  const callback = await browser.submitForm(form.body, '#login-form', { username, password });
  expect(callback.url.startsWith(redirectUri)).toBe(true);
  return exchange(authorization, callback.url);
}

function callApi(path: string, accessToken?: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${api.url}${path}`, {
    ...init,
    headers: { ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}), ...init.headers },
  });
}

const RP_BASIC_AUTH = `Basic ${Buffer.from('rp:rp-secret').toString('base64')}`;

/** A token request by hand (client_secret_basic), to see the raw response. */
function tokenRequest(params: Record<string, string>, init: RequestInit = {}, provider = idp): Promise<Response> {
  return fetch(`${provider.issuer}/token`, {
    method: 'POST',
    headers: { authorization: RP_BASIC_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
    ...init,
  });
}

function refreshGrant(refreshToken: string, params: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  return tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, ...params }, init);
}

async function until(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5000; !condition(); await sleep(10)) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
  }
}

async function forgeAccessToken(claims: JWTPayload, key = idp.signingKey): Promise<string> {
  return new SignJWT({ iss: idp.issuer, aud: TODOS, sub: 'u-1001', scope: 'todos:read todos:write', ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: idp.signingKey.kid })
    .setIssuedAt()
    .setExpirationTime('1m')
    .sign(await importJWK(key, 'RS256'));
}

test('the code flow gives an ID token with profile claims and sid, a refresh token, and a JWT access token for the default resource', async () => {
  const tokens = await logIn(new BrowserClient(), 'alice');

  expect(tokens.claims()).toMatchObject({
    iss: idp.issuer,
    sub: 'u-1001',
    name: 'Alice Anderson',
    email: 'alice@example.com',
    email_verified: true,
  });
  expect(typeof tokens.claims()!.sid).toBe('string');
  expect(tokens.refresh_token).toEqual(expect.any(String));
  expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: idp.signingKey.kid });
  expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: idp.issuer, aud: TODOS, sub: 'u-1001', scope: 'todos:read todos:write' });

  const listed = await callApi('/todos', tokens.access_token);
  expect(listed.status).toBe(200);
  expect(await listed.json()).toMatchObject({
    sub: 'u-1001',
    todos: [expect.objectContaining({ title: expect.any(String) }), expect.anything()],
  });
  const added = await callApi('/todos', tokens.access_token, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Write the tests' }),
  });
  expect(added.status).toBe(201);
  const { todos } = (await (await callApi('/todos', tokens.access_token)).json()) as { todos: { title: string }[] };
  expect(todos.map((todo) => todo.title)).toContain('Write the tests');
});

test('with a live provider session the next authorization needs no form and still gets a refresh token and the resource scopes', async () => {
  const browser = new BrowserClient();
  await logIn(browser, 'bob');
  const authorization = await authorizationRequest();

  const callback = await browser.get(authorization.url);
  const tokens = await exchange(authorization, callback.url);

  expect(tokens.claims()).toMatchObject({ sub: 'u-1002', name: 'Bob Brown' });
  expect(tokens.refresh_token).toEqual(expect.any(String));
  expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: TODOS, scope: 'todos:read todos:write' });
});

test('a refresh-token grant rotates the refresh token; reusing the old one fails and revokes the grant', async () => {
  const tokens = await logIn(new BrowserClient(), 'alice');
  idp.events.length = 0;

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);

  expect(refreshed.refresh_token).toEqual(expect.any(String));
  expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: TODOS, sub: 'u-1001', scope: 'todos:read todos:write' });
  expect(refreshed.claims()).toMatchObject({ sub: 'u-1001', sid: tokens.claims()!.sid });
  expect(idp.events).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'refresh_token.consumed', clientId: 'rp' }),
      expect.objectContaining({ name: 'grant.success', grantType: 'refresh_token' }),
    ]),
  );

  await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  expect(idp.events).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        name: 'grant.error',
        grantType: 'refresh_token',
        error: 'invalid_grant',
        detail: 'refresh token already used',
      }),
      expect.objectContaining({ name: 'grant.revoked' }),
    ]),
  );
  // Reuse means theft: the whole grant is gone, the rotated token included.
  await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
});

test('a refresh-token grant may name another resource, whose token the todos API refuses', async () => {
  const tokens = await logIn(new BrowserClient(), 'alice');

  const other = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: OTHER });

  expect(decodeJwt(other.access_token)).toMatchObject({ aud: OTHER, scope: 'other:read' });
  expect((await callApi('/todos', other.access_token)).status).toBe(401);
});

test('the demo API refuses a missing, tampered, foreign-audience or foreign-key token (401) and one without the scope (403)', async () => {
  expect((await callApi('/todos', await forgeAccessToken({}))).status).toBe(200);

  const missing = await callApi('/todos');
  expect(missing.status).toBe(401);
  expect(missing.headers.get('www-authenticate')).toBe('Bearer');
  expect(await missing.json()).toMatchObject({ error: 'invalid_token' });

  const [header, , signature] = (await forgeAccessToken({})).split('.');
  const otherPayload = Buffer.from(JSON.stringify({ ...decodeJwt(await forgeAccessToken({})), sub: 'u-1002' })).toString('base64url');
  const tampered = await callApi('/todos', `${header}.${otherPayload}.${signature}`);
  expect(tampered.status).toBe(401);
  expect(tampered.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');

  expect((await callApi('/todos', await forgeAccessToken({ aud: OTHER }))).status).toBe(401);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const strangerKey = { ...(await exportJWK(privateKey)), kid: idp.signingKey.kid };
  expect((await callApi('/todos', await forgeAccessToken({}, strangerKey))).status).toBe(401);

  const scopeless = await callApi('/todos', await forgeAccessToken({ scope: 'todos:write' }));
  expect(scopeless.status).toBe(403);
  expect(await scopeless.json()).toMatchObject({ error: 'insufficient_scope' });
});

test('the demo API echoes any other path without giving the token back', async () => {
  const token = await forgeAccessToken({ jti: 'token-1' });

  const echo = await callApi('/things/1?x=1', token, { method: 'DELETE', headers: { 'x-extra': 'yes' } });

  expect(echo.status).toBe(200);
  expect(await echo.json()).toMatchObject({
    method: 'DELETE',
    path: '/things/1',
    headers: { 'x-extra': 'yes', authorization: 'Bearer [redacted]' },
    sub: 'u-1001',
    aud: TODOS,
    scope: 'todos:read todos:write',
    jti: 'token-1',
  });
});

test('onTokenResponse changes what the relying party receives from the real token endpoint', async () => {
  idp.onTokenResponse = (body) => {
    delete body.refresh_token;
  };
  const withoutRefreshToken = await logIn(new BrowserClient(), 'alice');
  expect(withoutRefreshToken.refresh_token).toBeUndefined();

  const forged = await new SignJWT({ nonce: 'not-the-one-sent' })
    .setProtectedHeader({ alg: 'RS256', kid: idp.signingKey.kid })
    .setIssuer(idp.issuer)
    .setAudience('rp')
    .setSubject('u-1002')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(await importJWK(idp.signingKey, 'RS256'));
  idp.onTokenResponse = (body) => ({ ...body, id_token: forged });
  await expect(logIn(new BrowserClient(), 'alice')).rejects.toMatchObject({ cause: { message: expect.stringContaining('"nonce"') } });
});

test('a revoked refresh token no longer works', async () => {
  const tokens = await logIn(new BrowserClient(), 'bob');

  await client.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });

  await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
});

test('a wrong password shows the login form again, with an error, and the user can retry', async () => {
  const browser = new BrowserClient();
  const authorization = await authorizationRequest();
  const form = await browser.get(authorization.url);

  const retry = await browser.submitForm(form.body, '#login-form', { username: 'alice', password: 'wrong' });

  expect(retry.status).toBe(401);
  expect(retry.body).toContain('Wrong username or password');
  expect(retry.body).toContain('id="password"');
  const callback = await browser.submitForm(retry.body, '#login-form', { username: 'alice', password: 'alice' });
  expect((await exchange(authorization, callback.url)).claims()).toMatchObject({ sub: 'u-1001' });
});

test('RP-initiated logout asks for confirmation, then ends the provider session and notifies the RP on its back channel', async () => {
  const browser = new BrowserClient();
  const tokens = await logIn(browser, 'alice');
  idp.events.length = 0;

  const confirmation = await browser.get(
    client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogoutRedirectUri }),
  );
  expect(confirmation.status).toBe(200);
  expect(confirmation.body).toContain('id="logout-confirm"');
  expect(idp.events).toEqual([]);

  const landing = await browser.submitForm(confirmation.body);

  expect(landing.url).toBe(postLogoutRedirectUri);
  const { sid } = tokens.claims()!;
  expect(idp.events).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'backchannel.success', clientId: 'rp', sid }),
      expect.objectContaining({ name: 'end_session.success', clientId: 'rp' }),
    ]),
  );
  const logoutToken = backchannelLogouts.map((body) => decodeJwt(body.get('logout_token')!)).find((claims) => claims.sid === sid);
  expect(logoutToken).toMatchObject({ iss: idp.issuer, aud: 'rp', sub: 'u-1001' });
  const next = await browser.get((await authorizationRequest()).url);
  expect(next.body).toContain('id="sign-in"');
});

test('client credentials get an access token for the default resource', async () => {
  const tokens = await client.clientCredentialsGrant(config, { scope: 'todos:read' });

  expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: TODOS, sub: 'rp', scope: 'todos:read' });
});

// Test hooks that make the real token endpoint fail, and record what reached it.

test('a 503 JSON fault on refresh grants refuses them without consuming the refresh token, while the code exchange still works', async () => {
  idp.tokenEndpointFault = { kind: 'status', status: 503, grantType: 'refresh_token' };
  const tokens = await logIn(new BrowserClient(), 'alice');
  idp.events.length = 0;

  const refused = await refreshGrant(tokens.refresh_token!);

  expect(refused.status).toBe(503);
  expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
  expect(refused.headers.get('cache-control')).toBe('no-store');
  expect(await refused.json()).toMatchObject({ error: 'temporarily_unavailable' });
  // openid-client reads an OAuth error body only from a 4xx answer; a 5xx one is a non-conforming response.
  await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
    code: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
    cause: expect.objectContaining({ status: 503 }),
  });
  expect(idp.events).toEqual([]);
  idp.tokenEndpointFault = undefined;
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: TODOS, sub: 'u-1001' });
});

test('a 500 HTML fault answers with an error page that is no OAuth error, and spares other grant types', async () => {
  const tokens = await logIn(new BrowserClient(), 'bob');
  idp.tokenEndpointFault = { kind: 'status', status: 500, body: 'html', grantType: 'refresh_token' };

  const refused = await refreshGrant(tokens.refresh_token!);

  expect(refused.status).toBe(500);
  expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await refused.text()).toMatch(/^<!DOCTYPE html>/);
  await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({
    code: 'OAUTH_RESPONSE_IS_NOT_CONFORM',
    cause: expect.objectContaining({ status: 500 }),
  });
  expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'todos:read' })).status).toBe(200);
  idp.tokenEndpointFault = undefined;
  expect((await refreshGrant(tokens.refresh_token!)).status).toBe(200);
});

test('a hanging token endpoint never answers: the client gives up, and the request never reached oidc-provider', async () => {
  const tokens = await logIn(new BrowserClient(), 'alice');
  idp.tokenEndpointFault = { kind: 'hang', grantType: 'refresh_token' };
  idp.events.length = 0;
  const started = performance.now();

  await expect(refreshGrant(tokens.refresh_token!, {}, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
    name: 'TimeoutError',
  });

  expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  expect(idp.events).toEqual([]);
  expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'todos:read' })).status).toBe(200);
  idp.tokenEndpointFault = undefined;
  expect((await refreshGrant(tokens.refresh_token!)).status).toBe(200);
});

test('stop() closes hanging and delayed token requests at once, and every stop() call waits for the same close', async () => {
  const own = await startIdentityProvider({
    clients: [{ client_id: 'rp', client_secret: 'rp-secret', redirect_uris: [redirectUri] }],
    resources: { [TODOS]: { scope: 'todos:read' } },
  });
  const clientCredentials = { grant_type: 'client_credentials', scope: 'todos:read' };
  own.tokenEndpointFault = { kind: 'hang' };
  const hanging = tokenRequest(clientCredentials, {}, own);
  hanging.catch(() => {});
  await until(() => own.tokenRequests.length === 1);
  own.tokenEndpointFault = { kind: 'delay', ms: 60_000 };
  const delayed = tokenRequest(clientCredentials, {}, own);
  delayed.catch(() => {});
  await until(() => own.tokenRequests.length === 2);
  const started = performance.now();

  await Promise.all([own.stop(), own.stop()]);

  expect(performance.now() - started).toBeLessThan(1000);
  await expect(hanging).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' });
  await expect(delayed).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' });
  expect(own.events).toEqual([]);
  await own.stop();
});

test('a delayed token endpoint answers normally, only later, for the chosen grant type', async () => {
  const tokens = await logIn(new BrowserClient(), 'bob');
  idp.tokenEndpointFault = { kind: 'delay', ms: 500, grantType: 'refresh_token' };
  const started = performance.now();

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: OTHER });

  expect(performance.now() - started).toBeGreaterThanOrEqual(490);
  expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: OTHER, sub: 'u-1002', scope: 'other:read' });
});

test('tokenRequests records every token request, refused ones included, with grant type, resource and scope but no secret', async () => {
  idp.tokenRequests.length = 0;
  const tokens = await logIn(new BrowserClient(), 'alice');
  const other = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: OTHER });
  await client.clientCredentialsGrant(config, { scope: 'todos:read' });
  idp.tokenEndpointFault = { kind: 'status', status: 503 };
  expect((await refreshGrant(other.refresh_token!, { scope: 'openid' })).status).toBe(503);
  idp.tokenEndpointFault = { kind: 'status', status: 503, grantType: 'client_credentials' };
  // A body that arrives in pieces, chunked (no content-length), is read for the filter and still reaches oidc-provider whole.
  const pieces = ['grant_type=refresh', `_token&refresh_token=${other.refresh_token!}`, `&resource=${encodeURIComponent(TODOS)}`];
  const streamed = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { authorization: RP_BASIC_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body: new ReadableStream<Uint8Array>({
      async pull(controller) {
        await sleep(20);
        const piece = pieces.shift();
        if (piece === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(piece));
      },
    }),
    duplex: 'half',
  } as RequestInit);
  expect(streamed.status).toBe(200);
  expect(decodeJwt(((await streamed.json()) as { access_token: string }).access_token)).toMatchObject({ aud: TODOS });

  expect(idp.tokenRequests).toEqual([
    { grantType: 'authorization_code', clientAuthentication: 'basic', at: expect.any(Number) },
    { grantType: 'refresh_token', resource: OTHER, clientAuthentication: 'basic', at: expect.any(Number) },
    { grantType: 'client_credentials', scope: 'todos:read', clientAuthentication: 'basic', at: expect.any(Number) },
    { grantType: 'refresh_token', scope: 'openid', clientAuthentication: 'basic', at: expect.any(Number) },
    { grantType: 'refresh_token', resource: TODOS, clientAuthentication: 'basic', at: expect.any(Number) },
  ]);
  const times = idp.tokenRequests.map((request) => request.at);
  expect(times).toEqual([...times].sort((a, b) => a - b));
  const recorded = JSON.stringify(idp.tokenRequests);
  for (const secret of [tokens.refresh_token!, other.refresh_token!, 'rp-secret']) expect(recorded).not.toContain(secret);
});

test('refreshTokenReuseDetected is true once a rotated refresh token comes back, not for other refresh failures', async () => {
  const tokens = await logIn(new BrowserClient(), 'bob');
  idp.events.length = 0;
  await client.refreshTokenGrant(config, tokens.refresh_token!);

  expect((await refreshGrant('not-a-refresh-token')).status).toBe(400);
  expect(idp.events).toContainEqual(expect.objectContaining({ name: 'grant.error', error: 'invalid_grant' }));
  expect(idp.refreshTokenReuseDetected()).toBe(false);

  expect((await refreshGrant(tokens.refresh_token!)).status).toBe(400);
  expect(idp.refreshTokenReuseDetected()).toBe(true);
  idp.events.length = 0;
  expect(idp.refreshTokenReuseDetected()).toBe(false);
});
