import { randomBytes } from 'node:crypto';
import { loadConfig } from '#sessiongate/config';
import { SessionCookies } from './session.cookies.js';

function cookiesFor(env: Record<string, string>): SessionCookies {
  return new SessionCookies(
    loadConfig({
      OIDC_ISSUER: 'http://127.0.0.1:1/',
      OIDC_CLIENT_ID: 'gateway',
      OIDC_CLIENT_SECRET: 'secret',
      SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ...env,
    }),
  );
}

describe('SessionCookies', () => {
  const https = cookiesFor({ PUBLIC_URL: 'https://app.example', SESSION_COOKIE_SAMESITE: 'strict', LOGIN_TIMEOUT: '300' });

  it('writes the session cookie with the configured name and SameSite', () => {
    expect(https.session('abc', 600)).toBe('__Host-sessiongate=abc; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Strict');
    expect(https.clearSession()).toMatch(/^__Host-sessiongate=; Path=\/; Max-Age=0; HttpOnly; Secure; SameSite=Strict/);
  });

  it('writes a __Host-Http- session cookie as the prefix requires: Secure, Path=/, no Domain; Strict by default', () => {
    const cookies = cookiesFor({ PUBLIC_URL: 'https://app.example', SESSION_COOKIE_NAME: '__Host-Http-sg' });
    expect(cookies.session('abc', 600)).toBe('__Host-Http-sg=abc; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Strict');
    expect(cookies.login('xyz')).toMatch(/^__Host-Http-sg-login=xyz; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Lax$/);
  });

  it('writes the pre-login cookie with SameSite=Lax even when sessions are Strict', () => {
    expect(https.login('xyz')).toBe('__Host-sessiongate-login=xyz; Path=/; Max-Age=300; HttpOnly; Secure; SameSite=Lax');
    expect(https.clearLogin()).toMatch(/^__Host-sessiongate-login=; Path=\/; Max-Age=0; HttpOnly; Secure; SameSite=Lax/);
  });

  it('reads each cookie from a Cookie header', () => {
    const header = 'theme=dark; __Host-sessiongate-login=xyz; __Host-sessiongate=abc';
    expect(https.sessionId(header)).toBe('abc');
    expect(https.loginId(header)).toBe('xyz');
    expect(https.sessionId(undefined)).toBeUndefined();
  });

  it('drops Secure on a plain-http development origin', () => {
    const http = cookiesFor({ PUBLIC_URL: 'http://localhost:3000' });
    expect(http.session('abc', 60)).toBe('sessiongate=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict');
  });
});
