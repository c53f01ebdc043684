/** An opaque access token and when it expires (epoch ms, from `expires_in` at the time of issue). */
export interface AccessToken {
  readonly value: string;
  readonly expiresAt: number;
}

/** One refresh token per session, and one access token per API it was needed for. */
export interface TokenSet {
  readonly idToken: string;
  readonly refreshToken?: string;
  /** By audience key (see `audienceKey`); the token issued at login is under the default key. */
  readonly accessTokens: Readonly<Record<string, AccessToken>>;
}

/** Everything a session holds. Stored encrypted, except the version and the expiry times. */
export interface SessionData {
  /** Safe to show to users and admins and to put in URLs; unrelated to the cookie value. */
  readonly publicId: string;
  readonly sub: string;
  /** The provider's `sid` claim, for back-channel logout. */
  readonly idpSessionId?: string;
  /** Validated ID token claims. */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly tokens: TokenSet;
  readonly createdAt: number;
  /** Epoch ms after which the session ends, however active. */
  readonly absoluteExpiresAt: number;
}

export interface Session extends SessionData {
  /** The cookie value. Never stored: the store knows only its hash. */
  readonly id: string;
  /** Incremented on every write; replaceTokens compares it. */
  readonly version: number;
  /** Epoch ms after which the session ends without another request. */
  readonly idleExpiresAt: number;
}

/** A started login, kept until the provider redirects back to the callback. */
export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly returnTo: string;
  readonly createdAt: number;
}
