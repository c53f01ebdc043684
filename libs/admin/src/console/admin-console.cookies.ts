import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { expiredCookie, readCookie, serializeCookie } from '#sessiongate/http';
import { CONSOLE_PATH, type ConsoleSite, consoleSite } from './admin-console.routes.js';

/**
 * The console's own cookies, apart from the gateway's: another name, and Path=/admin so that the
 * browser never sends them to /api or /bff (nor the console the user's session, which it never
 * reads). The session cookie is SameSite=Strict whatever SESSION_SAME_SITE says; the pre-login
 * cookie is Lax (the provider's redirect back is a cross-site navigation) and only goes to the console.
 */
@Injectable()
export class AdminConsoleCookies {
  readonly site: ConsoleSite;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.site = consoleSite(config);
  }

  session(id: string, maxAgeSeconds: number): string {
    return serializeCookie(this.site.cookieName, id, {
      maxAgeSeconds,
      sameSite: 'strict',
      secure: this.site.secureCookies,
      path: '/admin',
    });
  }

  clearSession(): string {
    return expiredCookie(this.site.cookieName, { sameSite: 'strict', secure: this.site.secureCookies, path: '/admin' });
  }

  login(loginId: string): string {
    return serializeCookie(this.site.loginCookieName, loginId, {
      maxAgeSeconds: this.config.session.loginTimeoutSeconds,
      sameSite: 'lax',
      secure: this.site.secureCookies,
      path: CONSOLE_PATH,
    });
  }

  clearLogin(): string {
    return expiredCookie(this.site.loginCookieName, { sameSite: 'lax', secure: this.site.secureCookies, path: CONSOLE_PATH });
  }

  sessionId(cookieHeader: string | undefined): string | undefined {
    return readCookie(cookieHeader, this.site.cookieName);
  }

  loginId(cookieHeader: string | undefined): string | undefined {
    return readCookie(cookieHeader, this.site.loginCookieName);
  }
}
