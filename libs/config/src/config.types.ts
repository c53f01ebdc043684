import type { JsonWebKey } from 'node:crypto';
/**
 * `user`: the user's access token (401 without a session); `optional`: the user's token when logged
 * in, none otherwise; `client`: a client-credentials token shared by all sessions; `none`: no token.
 */
export type RouteTokenMode = 'user' | 'optional' | 'client' | 'none';

/**
 * Which access token a route needs: the API it is for (RFC 8707 resource / Auth0 audience) and its scopes.
 * Both unset: the token issued at login.
 */
export interface TokenAudience {
  readonly resource?: string | undefined;
  readonly scopes?: string | undefined;
}

export interface ApiRoute {
  /** Path prefix under which the SPA calls this API, e.g. `/api/todos`. */
  readonly prefix: string;
  /** Upstream base URL; the remainder of the request path is appended to its path. */
  readonly target: URL;
  readonly token: RouteTokenMode;
  readonly audience: TokenAudience;
  /** Largest request body accepted for this route (413 beyond it). */
  readonly maxBodyBytes: number;
  /** Milliseconds the upstream may take to send its response headers (504 beyond it). */
  readonly timeoutMs: number;
  /** Milliseconds of silence allowed inside a response body (0: none, for long-lived streams). */
  readonly idleTimeoutMs: number;
  /** Whether the upstream's Set-Cookie reaches the browser (off: the gateway owns the browser's cookies). */
  readonly allowSetCookie: boolean;
  /** Whether browsers may open WebSockets here (an Origin check replaces X-CSRF on the handshake). */
  readonly websocket: boolean;
}

/** How the provider is told which API a token is for: `resource` (RFC 8707) or `audience` (Auth0). */
export type ResourceParameter = 'resource' | 'audience';

export type SameSite = 'lax' | 'strict';
/** SESSION_CACHE: `local` answers reads from memory kept current by pub/sub; `verify` reads the store on every request. */
export type SessionCacheMode = 'local' | 'verify';

/** A session encryption key and the id written with every blob it seals. */
export interface SessionKey {
  readonly id: string;
  readonly key: Buffer;
}

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** How the gateway proves itself at the token endpoint: a shared secret, or a key signing a JWT assertion. */
export type ClientCredentials =
  | { readonly method: 'client_secret_basic' | 'client_secret_post'; readonly secret: string }
  | { readonly method: 'private_key_jwt'; readonly privateKey: JsonWebKey & { readonly kid: string } };

export interface GatewayConfig {
  readonly production: boolean;
  readonly publicUrl: URL;
  /** Origins besides PUBLIC_URL's that may call with credentials (CORS). */
  readonly corsAllowedOrigins: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  /** On SIGTERM: how long in-flight requests may take before the process exits anyway. */
  readonly shutdownTimeoutMs: number;
  readonly oidc: {
    readonly issuer: URL;
    readonly clientId: string;
    readonly credentials: ClientCredentials;
    /** Use PAR (RFC 9126) when the provider offers it. */
    readonly usePar: boolean;
    /** `max_age` sent with every login; `auth_time` is checked against it. */
    readonly maxAgeSeconds: number | undefined;
    readonly scopes: string;
    readonly idTokenSigningAlg: string;
    /** True when an http:// issuer is allowed; warned about at start-up unless it is loopback. */
    readonly allowInsecureHttp: boolean;
    readonly redirectUri: URL;
    readonly postLogoutRedirectUri: URL;
  };
  /** Undefined: the in-process store (development only). */
  readonly redis: RedisConfig | undefined;
  readonly session: {
    /** AES-256-GCM keys for tokens at rest, newest first: the first encrypts, all decrypt. */
    readonly encryptionKeys: readonly SessionKey[];
    /** Keys the HMACs naming the index keys (SessionLookups); does not rotate with the encryption keys. */
    readonly indexKey: Buffer;
    readonly idleTimeoutSeconds: number;
    readonly absoluteTimeoutSeconds: number;
    readonly cookieName: string;
    readonly loginCookieName: string;
    readonly sameSite: SameSite;
    readonly secureCookies: boolean;
    readonly loginTimeoutSeconds: number;
    /** The idle expiry is written back only when it would move by more than this (SESSION_TOUCH_INTERVAL). */
    readonly touchIntervalMs: number;
    /** SESSION_CACHE: whether reads may be answered from memory (see SessionReadCache). */
    readonly cache: SessionCacheMode;
  };
  readonly tokens: {
    readonly refreshSkewSeconds: number;
    readonly resourceParameter: ResourceParameter;
    /** How long a refresh holds its per-session lock before it must renew it. */
    readonly refreshLockLeaseMs: number;
    /** How long a request waits for another instance's refresh before it answers 503. */
    readonly refreshWaitMs: number;
  };
  readonly proxy: {
    readonly connectTimeoutMs: number;
    /** How often the session behind each open WebSocket is checked (WEBSOCKET_SESSION_CHECK_MS). */
    readonly websocketSessionCheckMs: number;
  };
  readonly routes: readonly ApiRoute[];
  /** Folder of static SPA files served at `/`, if any. */
  readonly spaDir: string | undefined;
  /** Reverse proxies whose X-Forwarded-For is believed (Fastify `trustProxy`); empty: none. */
  readonly trustProxy: readonly string[];
  /** Requests per client IP and window on /bff/login and /bff/callback; 0: unlimited. */
  readonly rateLimit: { readonly login: number; readonly callback: number; readonly windowMs: number };
  /** The admin API; undefined (off) unless ADMIN_JWT_AUDIENCE is set. */
  readonly admin: AdminConfig | undefined;
  /** Prometheus metrics at /metrics (METRICS_ENABLED): on the admin port when there is one, else on PORT. */
  readonly metrics: { readonly enabled: boolean };
}

export interface AdminConfig {
  /** The `aud` admin bearer tokens must carry; their `iss` must be OIDC_ISSUER. */
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly requiredScope: string;
  /** Serve /admin on this port only; undefined: on PORT with everything else. */
  readonly port: number | undefined;
}

/** What the break-glass CLI needs to open the session store directly (see loadStoreConfig). */
export interface StoreConfig {
  readonly redis: RedisConfig;
  readonly encryptionKeys: readonly SessionKey[];
  readonly indexKey: Buffer;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Where Redis is: exactly one of a standalone server (or a primary), Sentinel, or Cluster. */
export type RedisTopology =
  | { readonly kind: 'standalone'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly HostPort[];
      readonly name: string;
      readonly sentinelPassword: string | undefined;
    }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[] };

export interface RedisConfig {
  readonly topology: RedisTopology;
  /** ACL user and password of the data nodes (Sentinel, Cluster; a standalone URL carries its own). */
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** TLS on every connection (rediss://, or REDIS_TLS); `ca` replaces the system's trusted CAs when set. */
  readonly tls: { readonly ca: string | undefined } | undefined;
}
