import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { expiredCookie, readCookie, serializeCookie } from './cookie.codec.js';

/** Set-Cookie values for the session and pre-login cookies, and readers of both. */
@Injectable()
export class SessionCookies {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  session(id: string, maxAgeSeconds: number): string {
    const { cookieName, sameSite, secureCookies } = this.config.session;
    return serializeCookie(cookieName, id, { maxAgeSeconds, sameSite, secure: secureCookies });
  }

  clearSession(): string {
    const { cookieName, sameSite, secureCookies } = this.config.session;
    return expiredCookie(cookieName, { sameSite, secure: secureCookies });
  }

  /**
   * Always SameSite=Lax, whatever the session cookie uses: the provider's redirect back to the
   * callback is a cross-site top-level navigation, on which a Strict cookie would not be sent.
   */
  login(loginId: string): string {
    const { loginCookieName, loginTimeoutSeconds, secureCookies } = this.config.session;
    return serializeCookie(loginCookieName, loginId, { maxAgeSeconds: loginTimeoutSeconds, sameSite: 'lax', secure: secureCookies });
  }

  clearLogin(): string {
    return expiredCookie(this.config.session.loginCookieName, { sameSite: 'lax', secure: this.config.session.secureCookies });
  }

  /**
   * Binds a started connection (/bff/connect/<name>) to this browser. Lax, like the pre-login cookie:
   * the third-party provider's redirect back to the connect callback is a cross-site navigation.
   */
  connect(pendingId: string): string {
    const { loginTimeoutSeconds, secureCookies } = this.config.session;
    return serializeCookie(this.connectCookieName(), pendingId, {
      maxAgeSeconds: loginTimeoutSeconds,
      sameSite: 'lax',
      secure: secureCookies,
    });
  }

  clearConnect(): string {
    return expiredCookie(this.connectCookieName(), { sameSite: 'lax', secure: this.config.session.secureCookies });
  }

  connectId(cookieHeader: string | undefined): string | undefined {
    return readCookie(cookieHeader, this.connectCookieName());
  }

  private connectCookieName(): string {
    return `${this.config.session.cookieName}-connect`;
  }

  sessionId(cookieHeader: string | undefined): string | undefined {
    return readCookie(cookieHeader, this.config.session.cookieName);
  }

  loginId(cookieHeader: string | undefined): string | undefined {
    return readCookie(cookieHeader, this.config.session.loginCookieName);
  }
}
