import type { SameSite } from '#sessiongate/config';

/** Browsers keep cookies up to about 4 KB; anything longer is not one of ours. */
const MAX_VALUE_LENGTH = 4096;
// RFC 6265 §4.1.1: token for the name, cookie-octets for the value.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

export interface CookieOptions {
  readonly maxAgeSeconds?: number;
  readonly sameSite: SameSite;
  readonly secure: boolean;
  /** Always HttpOnly: no script ever needs these cookies. */
  readonly httpOnly?: true;
  /**
   * Default `/`, as `__Host-` cookies require; never a Domain attribute. Another path only for a
   * cookie that no other part of the gateway may receive (the admin console's, under /admin).
   */
  readonly path?: `/${string}`;
}

/**
 * The value of the first cookie called `name` in a Cookie header, or undefined. Never throws:
 * pairs without `=` and oversized values are skipped; values are not decoded.
 */
export function readCookie(cookieHeader: string | undefined, name: string): string | undefined {
  if (typeof cookieHeader !== 'string') return undefined;
  for (const pair of cookieHeader.split(';')) {
    const equals = pair.indexOf('=');
    if (equals < 0 || pair.slice(0, equals).trim() !== name) continue;
    let value = pair.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.length <= MAX_VALUE_LENGTH) return value;
  }
  return undefined;
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  if (!COOKIE_NAME.test(name) || !COOKIE_VALUE.test(value))
    throw new Error(`cookie ${name}: name or value has characters a cookie cannot carry`);
  const attributes = [`${name}=${value}`, `Path=${options.path ?? '/'}`];
  if (options.maxAgeSeconds !== undefined) attributes.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`);
  attributes.push('HttpOnly');
  if (options.secure) attributes.push('Secure');
  attributes.push(`SameSite=${options.sameSite === 'strict' ? 'Strict' : 'Lax'}`);
  return attributes.join('; ');
}

/** A Set-Cookie that removes the cookie: same name, path and attributes, empty value, expired. */
export function expiredCookie(name: string, options: Omit<CookieOptions, 'maxAgeSeconds'>): string {
  return `${serializeCookie(name, '', { ...options, maxAgeSeconds: 0 })}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
}
