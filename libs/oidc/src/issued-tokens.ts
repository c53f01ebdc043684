/** What a token endpoint answered, reduced to what the gateway keeps. Access tokens stay opaque. */
export interface IssuedTokens {
  readonly accessToken: string;
  /** Epoch ms, from `expires_in` at the time of issue (never from decoding the token). */
  readonly accessTokenExpiresAt: number;
  readonly refreshToken: string | undefined;
  /** The granted scope of the access token, when the response says (RFC 6749 §5.1: absent, it is the requested one). */
  readonly scope: string | undefined;
  /** Epoch ms from `refresh_expires_in`, when the provider sends it. */
  readonly refreshTokenExpiresAt: number | undefined;
  readonly idToken: string | undefined;
  /** Claims of the validated ID token, when one was issued. */
  readonly claims: Readonly<Record<string, unknown>> | undefined;
  /** `DPoP` when the token is bound to the key the request proved (RFC 9449 §5); else `Bearer`. */
  readonly tokenType: 'DPoP' | 'Bearer';
}

/**
 * The access token of a response as a session keeps it: its value, expiry, `type: 'DPoP'` when it is
 * DPoP-bound (then only ever sent with a proof), and, when the response says, granted scope.
 */
export function grantedToken(issued: IssuedTokens): {
  readonly value: string;
  readonly expiresAt: number;
  readonly scope?: string;
  readonly type?: 'DPoP';
} {
  const token = {
    value: issued.accessToken,
    expiresAt: issued.accessTokenExpiresAt,
    ...(issued.tokenType === 'DPoP' ? { type: 'DPoP' as const } : {}),
  };
  return issued.scope === undefined ? token : { ...token, scope: issued.scope };
}
