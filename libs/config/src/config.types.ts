import type { JsonWebKey } from 'node:crypto';
import type { RouteEntry } from './api-routes.js';
import type { SettingGroup } from './settings.js';

/**
 * `user`: the user's access token (401 without a session); `optional`: the user's token when logged
 * in, none otherwise; `client`: a client-credentials token shared by all sessions; `exchange`: the
 * user's token exchanged (RFC 8693) for one meant for the route's resource; `none`: no token;
 * `connected:<name>`: the user's token at the third-party provider of that connection (CONNECTIONS).
 */
export type RouteTokenMode = 'user' | 'optional' | 'client' | 'exchange' | 'none' | `connected:${string}`;

/** OIDC_DPOP: sender-constrain every token (`true`), the same unless the provider ignores DPoP (`optional`), or Bearer (`false`). */
export type DpopMode = 'true' | 'optional' | 'false';

/** SECURITY_PROFILE: `fapi2` enforces the FAPI 2.0 Security Profile (docs/FAPI2.md). */
export type SecurityProfile = 'none' | 'fapi2';

/** TOKEN_EXCHANGE_SUBJECT_TOKEN: which of the user's tokens an exchange route hands the provider (RFC 8693 subject_token). */
export type ExchangeSubjectTokenType = 'access_token' | 'id_token';

/**
 * Which access token a route needs: the API it is for (RFC 8707 resource / Auth0 audience) and its scopes.
 * Both unset: the token issued at login.
 */
export interface TokenAudience {
  readonly resource?: string | undefined;
  readonly scopes?: string | undefined;
}

/**
 * A route of API_ROUTES (its keys are declared in api-routes.ts), with its token needs grouped, and its
 * `require` the effective one: its own, else ROUTES_DEFAULT_REQUIRE, else undefined (no conditions).
 */
export interface ApiRoute extends Omit<RouteEntry, 'resource' | 'scopes' | 'dpop'> {
  readonly audience: TokenAudience;
  /** The route's own `dpop`: unset, the token is DPoP-bound as OIDC_DPOP says (see routeUsesDpop). */
  readonly dpop?: boolean | undefined;
}

/** How the provider is told which API a token is for: `resource` (RFC 8707) or `audience` (Auth0). */
export type ResourceParameter = 'resource' | 'audience';

export type SameSite = 'lax' | 'strict';
/** SESSION_CACHE: `local` answers reads from memory kept current by pub/sub; `verify` reads the store on every request. */
export type SessionCacheMode = 'local' | 'verify';

/** OTEL_TRACES_SAMPLER's values (OpenTelemetry SDK environment variables). */
export type TraceSamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

/** OpenTelemetry traces (docs/TRACING.md), from the OTEL_* settings; GatewayConfig.tracing is undefined when off. */
export interface TracingConfig {
  /** Where spans are posted (OTLP/HTTP, JSON). */
  readonly tracesUrl: URL;
  readonly serviceName: string;
  readonly sampler: TraceSamplerName;
  /** The share of root traces a `traceidratio` sampler keeps (1 for the others). */
  readonly ratio: number;
  /** Milliseconds between two batch exports (OTEL_BSP_SCHEDULE_DELAY). */
  readonly exportDelayMs: number;
  /** Whether an incoming `traceparent`/`tracestate` is continued (OTEL_TRUST_INCOMING_TRACE). */
  readonly trustIncoming: boolean;
}

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

/** Where a connection's tokens live: in the session record (`session`), or under the user's keyed index (`user`). */
export type ConnectionPersistence = 'session' | 'user';

/** A third-party OAuth 2.0 provider users may connect their account at (CONNECTIONS; keys in connections.options.ts). */
export interface ConnectionConfig {
  readonly name: string;
  /** Discovered (RFC 8414, else OpenID Connect discovery) when the endpoints are not both given. */
  readonly issuer: URL | undefined;
  readonly authorizationEndpoint: URL | undefined;
  readonly tokenEndpoint: URL | undefined;
  readonly revocationEndpoint: URL | undefined;
  readonly clientId: string;
  readonly credentials: ClientCredentials;
  /** Space separated; '' asks for none (the provider's default). */
  readonly scopes: string;
  readonly persist: ConnectionPersistence;
  readonly persistSeconds: number;
  /** PUBLIC_URL + `/bff/connect/<name>/callback`: register it at the provider. */
  readonly redirectUri: URL;
}

/**
 * The validated configuration. Each group holds the settings that declare it (`group` in settings.ts),
 * under their field names; the fields listed here are derived from several settings (load-config.ts).
 */
export interface GatewayConfig extends SettingGroup<'gateway'> {
  readonly production: boolean;
  readonly oidc: SettingGroup<'oidc'> & {
    readonly credentials: ClientCredentials;
    /** True when an http:// issuer is allowed; warned about at start-up unless it is loopback. */
    readonly allowInsecureHttp: boolean;
    readonly redirectUri: URL;
    readonly postLogoutRedirectUri: URL;
  };
  /** Undefined: the in-process store (development only). */
  readonly redis: RedisConfig | undefined;
  readonly session: SettingGroup<'session'> & {
    /** Keys the HMACs naming the index keys (SessionLookups); does not rotate with the encryption keys. */
    readonly indexKey: Buffer;
    readonly cookieName: string;
    readonly loginCookieName: string;
    readonly secureCookies: boolean;
    /** The idle expiry is written back only when it would move by more than this (SESSION_TOUCH_INTERVAL). */
    readonly touchIntervalMs: number;
  };
  readonly tokens: SettingGroup<'tokens'>;
  readonly proxy: SettingGroup<'proxy'>;
  readonly routes: readonly ApiRoute[];
  /** Third-party providers users may connect their accounts at (CONNECTIONS), by the order they are listed. */
  readonly connections: readonly ConnectionConfig[];
  /** Requests per client IP and window on /bff/login and /bff/callback; 0: unlimited. */
  readonly rateLimit: SettingGroup<'rateLimit'>;
  /** The admin API; undefined (off) unless ADMIN_JWT_AUDIENCE is set. */
  readonly admin: AdminConfig | undefined;
  /** Prometheus metrics at /metrics (METRICS_ENABLED): on the admin port when there is one, else on PORT. */
  readonly metrics: SettingGroup<'metrics'>;
  /** OpenTelemetry traces; undefined (off) unless an OTLP endpoint is set. */
  readonly tracing: TracingConfig | undefined;
}

export interface AdminConfig extends Omit<SettingGroup<'admin'>, 'audience'> {
  /** The `aud` admin bearer tokens must carry; their `iss` must be OIDC_ISSUER. */
  readonly audience: string;
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
