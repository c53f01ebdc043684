import { fileURLToPath } from 'node:url';
import { type GatewayStack, startGatewayStack } from '#sessiongate/testing';

const SPA_DIR = fileURLToPath(new URL('../../apps/demo/public', import.meta.url));

/** Helmet's defaults on what the gateway itself serves; proxied API responses carry the API's own headers. */
describe('security headers', () => {
  let stack: GatewayStack;

  beforeAll(async () => {
    stack = await startGatewayStack({ env: { SPA_DIR } });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it.each(['/', '/app.js', '/bff/user', '/bff/login'])('are set on %s', async (path) => {
    const response = await fetch(`${stack.url}${path}`, { headers: { 'x-csrf': '1' }, redirect: 'manual' });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    // PUBLIC_URL is http in the tests: HSTS only makes sense, and is only sent, on https.
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it('forbids caching anything under /bff', async () => {
    for (const path of ['/bff/user', '/bff/login']) {
      const response = await fetch(`${stack.url}${path}`, { headers: { 'x-csrf': '1' }, redirect: 'manual' });
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('leaves proxied API responses to the API', async () => {
    const browser = await stack.loginAs('alice');
    const response = await browser.get(`${stack.url}/api/echo/x`, { headers: { 'x-csrf': '1' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBeNull();
    expect(response.headers.get('x-echo')).toBe('yes');
  });
});
