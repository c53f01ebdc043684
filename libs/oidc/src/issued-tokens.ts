/** What a token endpoint answered, reduced to what the gateway keeps. Access tokens stay opaque. */
export interface IssuedTokens {
  readonly accessToken: string;
  /** Epoch ms, from `expires_in` at the time of issue (never from decoding the token). */
  readonly accessTokenExpiresAt: number;
  readonly refreshToken: string | undefined;
  /** Epoch ms from `refresh_expires_in`, when the provider sends it. */
  readonly refreshTokenExpiresAt: number | undefined;
  readonly idToken: string | undefined;
  /** Claims of the validated ID token, when one was issued. */
  readonly claims: Readonly<Record<string, unknown>> | undefined;
  /** `DPoP` when the token is bound to the key the request proved (RFC 9449 §5); else `Bearer`. */
  readonly tokenType: 'DPoP' | 'Bearer';
}
