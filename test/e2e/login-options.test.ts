import { createPrivateKey, type JsonWebKey, sign } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { type GatewayStack, type GatewayStackOptions, startGatewayStack } from '#sessiongate/testing';

const CSRF = { 'x-csrf': '1' };

/** Logs alice in through a stack started with `options`, and checks the session works. */
async function loginWorks(options: GatewayStackOptions): Promise<GatewayStack> {
  const stack = await startGatewayStack(options);
  try {
    const browser = await stack.loginAs('alice');
    expect(stack.idp.tokenRequests).toHaveLength(1);
    const user = await browser.get(`${stack.url}/bff/user`, { headers: CSRF });
    expect(user.status).toBe(200);
    expect((await browser.get(`${stack.url}/api/todos/todos`, { headers: CSRF })).status).toBe(200);
    return stack;
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

async function authorizationRedirect(stack: GatewayStack): Promise<URL> {
  const response = await stack.browser().get(`${stack.url}/bff/login`, { followRedirects: false });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location')!);
}

describe('client authentication at the token endpoint', () => {
  it('sends a secret with reserved characters form-encoded in HTTP Basic (RFC 6749 §2.3.1)', async () => {
    // The stack's client secret contains ":&+%": a naive base64(id:secret) would not authenticate.
    const stack = await loginWorks({ env: { OIDC_CLIENT_AUTH_METHOD: 'client_secret_basic' } });
    expect(stack.idp.tokenRequests[0]!.clientAuthentication).toBe('basic');
    await stack.stop();
  });

  it('sends the secret in the body with client_secret_post', async () => {
    const stack = await loginWorks({
      env: { OIDC_CLIENT_AUTH_METHOD: 'client_secret_post' },
      client: { token_endpoint_auth_method: 'client_secret_post' },
    });
    expect(stack.idp.tokenRequests[0]!.clientAuthentication).toBe('post');
    await stack.stop();
  });

  it('signs a client assertion with private_key_jwt', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = 'gateway-key-1';
    const stack = await loginWorks({
      env: {
        OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt',
        OIDC_CLIENT_PRIVATE_KEY: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'RS256' }),
      },
      client: {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] },
      },
    });
    expect(stack.idp.tokenRequests[0]!.clientAuthentication).toBe('assertion');
    await stack.stop();
  });

  it('cannot log in when the provider expects another method', async () => {
    const stack = await startGatewayStack({ client: { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } } });
    try {
      const landing = await stack.browser().login(stack.url, { username: 'alice', password: 'alice' });
      expect(landing.status).toBe(400);
      expect(landing.json()).toMatchObject({ error: 'token_exchange_failed' });
      expect(await stack.redis.client.keys('sg:{*}:s')).toEqual([]);
    } finally {
      await stack.stop();
    }
  });
});

describe('the authorization request', () => {
  it('goes by PAR (RFC 9126) when the provider offers it: nothing but request_uri and client_id in the browser', async () => {
    const stack = await loginWorks({});
    try {
      const redirect = await authorizationRedirect(stack);
      expect([...redirect.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    } finally {
      await stack.stop();
    }
  });

  it('goes in the front channel with PKCE S256 when OIDC_USE_PAR=false', async () => {
    const stack = await loginWorks({ env: { OIDC_USE_PAR: 'false' } });
    try {
      const redirect = await authorizationRedirect(stack);
      expect(redirect.searchParams.get('code_challenge_method')).toBe('S256');
      expect(redirect.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
      expect(redirect.searchParams.get('redirect_uri')).toBe(`${stack.url}/bff/callback`);
      expect(redirect.searchParams.get('state')).toBeTruthy();
      expect(redirect.searchParams.get('nonce')).toBeTruthy();
    } finally {
      await stack.stop();
    }
  });

  it('asks for max_age and refuses an ID token whose auth_time is older', async () => {
    const stack = await loginWorks({ env: { OIDC_MAX_AGE: '300', OIDC_USE_PAR: 'false' } });
    try {
      expect((await authorizationRedirect(stack)).searchParams.get('max_age')).toBe('300');
      // A provider that ignored max_age: the token says the user authenticated an hour ago.
      const key = createPrivateKey({ key: stack.idp.signingKey as JsonWebKey, format: 'jwk' });
      stack.idp.onTokenResponse = (body) => {
        const [header, payload] = String(body.id_token).split('.');
        const claims = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), auth_time: Math.floor(Date.now() / 1000) - 3600 };
        const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
        return { ...body, id_token: `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}` };
      };
      const landing = await stack.browser().login(stack.url, { username: 'bob', password: 'bob' });
      expect(landing.status).toBe(400);
      expect(landing.json()).toMatchObject({ error: 'invalid_id_token' });
    } finally {
      await stack.stop();
    }
  });
});
