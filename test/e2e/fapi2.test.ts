import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// SECURITY_PROFILE=fapi2: a whole login and API call against oidc-provider configured as a FAPI 2.0
// authorization server would be (PAR required, DPoP-bound tokens required for the client,
// private_key_jwt with ES256, PS256 ID tokens, RFC 9207 iss), with the profile's start-up rules passed.

const CSRF = { 'x-csrf': '1' };

describe('a login under SECURITY_PROFILE=fapi2', () => {
  let stack: GatewayStack;
  let kid: string;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    kid = 'gateway-fapi-key';
    stack = await startGatewayStack({
      idp: { idTokenSigningAlg: 'PS256' },
      env: {
        SECURITY_PROFILE: 'fapi2',
        OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt',
        OIDC_CLIENT_SECRET: '',
        OIDC_CLIENT_PRIVATE_KEY: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }),
        OIDC_ID_TOKEN_ALG: 'PS256',
        OIDC_DPOP: 'true',
        OIDC_MAX_AGE: '3600',
      },
      client: {
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] },
        id_token_signed_response_alg: 'PS256',
        require_pushed_authorization_requests: true,
        dpop_bound_access_tokens: true,
      } as never,
    });
  });

  afterAll(() => stack?.stop());

  it('logs in by PAR with a DPoP-bound code, private_key_jwt and PS256 ID tokens, and calls the API with DPoP', async () => {
    let idToken: string | undefined;
    stack.idp.onTokenResponse = (body) => {
      if (typeof body.id_token === 'string') idToken = body.id_token;
      return undefined;
    };
    const browser = await stack.loginAs('alice');
    const user = await browser.get(`${stack.url}/bff/user`, { headers: CSRF });
    expect(user.status).toBe(200);
    expect(decodeProtectedHeader(idToken!).alg).toBe('PS256');
    expect(decodeJwt(idToken!).auth_time).toEqual(expect.any(Number));
    expect(stack.idp.tokenRequests[0]).toMatchObject({ grantType: 'authorization_code', clientAuthentication: 'assertion', dpop: true });
    expect((await browser.get(`${stack.url}/api/todos`, { headers: CSRF })).status).toBe(200);
    await browser.get(`${stack.url}/api/echo/x`, { headers: CSRF });
    expect(String(stack.echo.requests.at(-1)!.headers.authorization)).toMatch(/^DPoP /);
  });

  it('refuses the genuine callback once its RFC 9207 iss is taken out', async () => {
    const browser = stack.browser();
    let response = await browser.get(`${stack.url}/bff/login`, { from: stack.url, followRedirects: false });
    let callback: URL | undefined;
    for (let hop = 0; hop < 10 && callback === undefined; hop++) {
      const location = response.headers.get('location');
      if (location === null) {
        const action = /<form id="login-form"[^>]*\baction="([^"]+)"/.exec(response.body)?.[1];
        response = await browser.post(new URL(action!, response.url), {
          body: { username: 'bob', password: 'bob' },
          followRedirects: false,
        });
        continue;
      }
      const next = new URL(location, response.url);
      if (next.origin === new URL(stack.url).origin) callback = next;
      else response = await browser.get(next, { followRedirects: false });
    }
    expect(callback?.searchParams.get('iss')).toBe(stack.idp.issuer);
    callback!.searchParams.delete('iss');
    const refused = await browser.get(callback!, { followRedirects: false });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ error: 'invalid_state' });
    expect(stack.logs.some((line) => line.includes('iss response parameter missing or different (RFC 9207)'))).toBe(true);
  });
});
