import type { StoredDpopKey } from '#sessiongate/dpop';

/** An opaque access token and when it expires (epoch ms, from `expires_in` at the time of issue). */
export interface AccessToken {
  readonly value: string;
  readonly expiresAt: number;
  /**
   * The scope granted, as the token response said; absent when it did not say, which means the scope
   * requested (RFC 6749 §5.1), and for tokens stored before the gateway kept it.
   */
  readonly scope?: string;
  /** `DPoP`: bound to the session's DPoP key (RFC 9449), only ever sent with a proof. Absent: Bearer. */
  readonly type?: 'DPoP';
}

/** One refresh token per session, and one access token per API it was needed for. */
export interface TokenSet {
  readonly idToken: string;
  readonly refreshToken?: string;
  /** By audience key (see `audienceKey`); the token issued at login is under the default key. */
  readonly accessTokens: Readonly<Record<string, AccessToken>>;
  /** Tokens obtained by token exchange (RFC 8693), by exchange key (see exchangeKey in libs/tokens). */
  readonly exchangedTokens?: Readonly<Record<string, AccessToken>>;
  /** The session's DPoP key pair (private JWK): encrypted with the rest, never logged or listed. */
  readonly dpopKey?: StoredDpopKey;
}

/**
 * A user's tokens at a third-party provider (a connection of CONNECTIONS), kept beside the gateway's own:
 * in the session record, or (`persist: user`) under the user's keyed index (UserVault).
 */
export interface ConnectionGrant {
  readonly accessToken: string;
  /** Epoch ms, from `expires_in`; absent when the provider sent none (the token lasts until it is refused). */
  readonly expiresAt?: number;
  readonly refreshToken?: string;
  /** The scopes granted: the token response's `scope`, else those asked for (RFC 6749 §5.1). */
  readonly scopes: string;
  /** Epoch ms of the user's consent (a refresh keeps it). */
  readonly connectedAt: number;
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
  /** The userinfo claims of the login (OIDC_FETCH_USERINFO), their `sub` the ID token's; absent otherwise. */
  readonly userinfo?: Readonly<Record<string, unknown>>;
  readonly tokens: TokenSet;
  readonly createdAt: number;
  /** Epoch ms after which the session ends, however active. */
  readonly absoluteExpiresAt: number;
  /** The browser's User-Agent at login (truncated), so that a user can tell their sessions apart. */
  readonly userAgent?: string;
  /** The address the login came from, as the gateway saw it (behind a reverse proxy: the proxy's). */
  readonly ip?: string;
  /** Third-party connections held by this session (`persist: session`), by connection name. */
  readonly connections?: Readonly<Record<string, ConnectionGrant>>;
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
  /** Made at /bff/login when tokens are DPoP-bound: the code is bound to it (PAR's proof, or dpop_jkt). */
  readonly dpopKey?: StoredDpopKey;
  readonly returnTo: string;
  readonly createdAt: number;
  /** What the SPA asked of the login through /bff/login's allowlisted parameters (docs/STEP-UP.md). */
  readonly parameters?: {
    readonly prompt?: string;
    readonly acrValues?: readonly string[];
    readonly maxAgeSeconds?: number;
    readonly loginHint?: string;
    readonly uiLocales?: string;
  };
  /** A step-up of this live session: the new login must be its user's (`sub`, `iss`), and replaces it. */
  readonly replaces?: { readonly publicId: string; readonly sub: string; readonly iss: string };
}

/** What users and admins may see of a session: never its id (the cookie value) or a token. */
export interface SessionSummary {
  readonly publicId: string;
  readonly sub: string;
  readonly idpSessionId: string | undefined;
  readonly createdAt: number;
  /** To within SESSION_TOUCH_INTERVAL: the idle expiry is written back at most that often. */
  readonly lastSeenAt: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly userAgent: string | undefined;
  readonly ip: string | undefined;
  readonly hasRefreshToken: boolean;
  /** The APIs the session holds an access token for (see audienceKey), and until when. */
  readonly accessTokens: readonly { readonly audienceKey: string; readonly expiresAt: number }[];
  /** The names of the third-party connections the session holds (never their tokens). */
  readonly connections: readonly string[];
}

export interface SessionPage {
  readonly sessions: readonly SessionSummary[];
  /** Sessions on this page that could not be decrypted (sealed with another SESSION_ENCRYPTION_KEY); left out. */
  readonly unreadable: number;
  /** Pass back as `cursor` for the next page; absent on the last one. */
  readonly nextCursor: string | undefined;
}

/** A session that was ended, with what the caller must still revoke at the provider. */
export interface RevokedSession {
  readonly publicId: string;
  readonly sub: string;
  readonly refreshToken: string | undefined;
  /** Its third-party connections: already revoked there (SessionEndListeners), unless it was `replaced`. */
  readonly connections: Readonly<Record<string, ConnectionGrant>> | undefined;
}
