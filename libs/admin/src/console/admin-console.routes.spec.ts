import { consoleSite, isConsolePath } from './admin-console.routes.js';

describe('consoleSite', () => {
  it('derives the redirect URI and cookies from ADMIN_CONSOLE_URL, else PUBLIC_URL', () => {
    expect(consoleSite({ publicUrl: new URL('http://localhost:3000') })).toEqual({
      origin: 'http://localhost:3000',
      redirectUri: new URL('http://localhost:3000/admin/console/callback'),
      secureCookies: false,
      cookieName: 'sessiongate-admin',
      loginCookieName: 'sessiongate-admin-login',
    });
    const admin = { consoleUrl: new URL('https://ops.example.com:9443') } as Parameters<typeof consoleSite>[0]['admin'];
    // __Secure-, not __Host-: the cookie's Path is /admin, and __Host- requires Path=/.
    expect(consoleSite({ publicUrl: new URL('https://app.example.com'), admin })).toMatchObject({
      origin: 'https://ops.example.com:9443',
      redirectUri: new URL('https://ops.example.com:9443/admin/console/callback'),
      secureCookies: true,
      cookieName: '__Secure-sessiongate-admin',
    });
  });

  it('knows its paths and no others', () => {
    expect(['/admin/console', '/admin/console/api/me', '/admin/console/callback'].every(isConsolePath)).toBe(true);
    expect(['/admin/consoles', '/admin/sessions', '/admin', '/bff/admin/console'].some(isConsolePath)).toBe(false);
  });
});
