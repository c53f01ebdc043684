import { type BrowserClient, type GatewayStack, startGatewayStack } from '#sessiongate/testing';

const OTHER_APP = 'http://other-app.localhost:4321';

/** The gateway refuses calls from other sites, and grants CORS with credentials only to listed origins. */
describe('cross-origin requests', () => {
  let stack: GatewayStack;
  let alice: BrowserClient;

  beforeAll(async () => {
    stack = await startGatewayStack({ env: { CORS_ALLOWED_ORIGINS: OTHER_APP } });
    alice = await stack.loginAs('alice');
  });

  afterAll(async () => {
    await stack.stop();
  });

  const call = (path: string, headers: Record<string, string>, method = 'GET') =>
    alice.request(method, `${stack.url}${path}`, { headers: { 'x-csrf': '1', ...headers }, from: `${stack.url}/` });

  it.each([
    ['an Origin of another site', { origin: 'https://evil.example' }],
    ['an Origin that only shares the host name', { origin: 'http://localhost.evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['the null Origin of a sandboxed frame', { origin: 'null' }],
  ])('refuses /api and /bff/user calls carrying %s, even with X-CSRF', async (_name, headers) => {
    const seen = stack.echo.requests.length;
    for (const [method, path] of [
      ['GET', '/api/echo/x'],
      ['POST', '/api/echo/x'],
      ['GET', '/bff/user'],
    ] as const) {
      const response = await call(path, headers, method);
      expect(response.status).toBe(403);
      expect(response.json()).toMatchObject({ error: 'csrf' });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
    expect(stack.echo.requests.length).toBe(seen);
  });

  it('accepts its own origin and same-origin fetches', async () => {
    expect((await call('/api/echo/x', { origin: stack.url, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await call('/bff/user', { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });

  it('grants credentialed CORS to a listed origin, never a wildcard', async () => {
    const response = await call('/api/echo/x', { origin: OTHER_APP, 'sec-fetch-site': 'cross-site' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(OTHER_APP);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it("answers a listed origin's preflight itself, without calling the API", async () => {
    const seen = stack.echo.requests.length;
    const response = await alice.request('OPTIONS', `${stack.url}/api/echo/x`, {
      headers: { origin: OTHER_APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-csrf, content-type' },
      from: OTHER_APP,
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(OTHER_APP);
    expect(response.headers.get('access-control-allow-headers')).toMatch(/X-CSRF/i);
    expect(stack.echo.requests.length).toBe(seen);
  });

  it("refuses another origin's preflight", async () => {
    const response = await alice.request('OPTIONS', `${stack.url}/api/echo/x`, {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      from: 'https://evil.example',
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('still lets the provider redirect back to the callback and a login start from anywhere', async () => {
    const bob = stack.browser();
    const landing = await bob.login(stack.url, { username: 'bob', password: 'bob' });
    expect([200, 404]).toContain(landing.status);
    const start = await stack.browser().get(`${stack.url}/bff/login`, {
      headers: { 'sec-fetch-site': 'cross-site' },
      followRedirects: false,
      from: 'https://evil.example/',
    });
    expect(start.status).toBe(302);
  });
});
