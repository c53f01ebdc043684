import type { TokenAudience } from '#sessiongate/config';

/** The key of a session's access token for `audience`; the token issued at login has the default key. */
export function audienceKey(audience: TokenAudience = {}): string {
  return `${audience.resource ?? ''} ${audience.scopes ?? ''}`;
}
