import type { AccessToken } from '#sessiongate/session';

/**
 * Whether a held access token may be sent as is: not the one an API just refused, and not within
 * `skewMs` of its expiry (known from `expires_in`; tokens are opaque and never decoded).
 */
export function isUsable(token: AccessToken, rejectedToken: string | undefined, skewMs: number, now: number): boolean {
  return token.value !== rejectedToken && token.expiresAt - skewMs > now;
}
