import type { AdminConfig, GatewayConfig } from '#sessiongate/config';

/** Where the console lives: its page, its login and callback, and its JSON calls under `api/`. */
export const CONSOLE_PATH = '/admin/console';
export const CONSOLE_CALLBACK_PATH = `${CONSOLE_PATH}/callback`;

/** Whether a path is the console's (taken by its session cookie, not by an admin bearer token). */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}

/** What the console derives from the settings: its origin, redirect URI and cookies. */
export interface ConsoleSite {
  /** The origin operators' browsers load the console from: ADMIN_CONSOLE_URL, else PUBLIC_URL. */
  readonly origin: string;
  /** Registered at the provider beside `/bff/callback`. */
  readonly redirectUri: URL;
  /** https: `Secure` cookies with the `__Secure-` prefix (not `__Host-`, which requires Path=/). */
  readonly secureCookies: boolean;
  readonly cookieName: string;
  readonly loginCookieName: string;
}

export function consoleSite(config: Pick<GatewayConfig, 'publicUrl'> & { readonly admin?: AdminConfig | undefined }): ConsoleSite {
  const base = config.admin?.consoleUrl ?? config.publicUrl;
  const secureCookies = base.protocol === 'https:';
  const cookieName = secureCookies ? '__Secure-sessiongate-admin' : 'sessiongate-admin';
  return {
    origin: base.origin,
    redirectUri: new URL(CONSOLE_CALLBACK_PATH, base),
    secureCookies,
    cookieName,
    loginCookieName: `${cookieName}-login`,
  };
}
