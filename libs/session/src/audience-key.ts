/** Identifies which API an access token is for: the resource it was issued for and the scopes asked for. */
export interface Audience {
  readonly resource?: string | undefined;
  readonly scopes?: string | undefined;
}

/** The key of a session's access token for `audience`; the token issued at login has the default key. */
export function audienceKey(audience: Audience = {}): string {
  return `${audience.resource ?? ''} ${audience.scopes ?? ''}`;
}
