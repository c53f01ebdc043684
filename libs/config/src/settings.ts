import type {
  ClientAuthMethod,
  DpopMode,
  ExchangeSubjectTokenType,
  ResourceParameter,
  SameSite,
  SecurityProfile,
  SessionCacheMode,
  TraceSamplerName,
} from './config.types.js';
import { JsonKeyError } from './json-array.js';
import { routePolicy } from './route-policy.options.js';
import type { RoutePolicy } from './route-policy.types.js';
import {
  ASYMMETRIC_JWS_ALGS,
  asymmetricAlgorithms,
  bffPath,
  boolean,
  cookieName,
  encryptionKey,
  encryptionKeys,
  existingFolder,
  hostPortList,
  httpUrl,
  localPath,
  nonEmpty,
  nonNegativeInteger,
  oneOf,
  origin,
  origins,
  pemFile,
  port,
  positiveInteger,
  probability,
  privateJwk,
  redisUrl,
  resourceIndicators,
  scopes,
  scopeToken,
  trustedProxies,
  workerCount,
} from './setting-parsers.js';

/** Where a setting's value lands in GatewayConfig: `gateway` for its top-level fields, else the group of that name. */
export type SettingGroupName = 'gateway' | 'oidc' | 'session' | 'tokens' | 'proxy' | 'rateLimit' | 'admin' | 'metrics';

/**
 * One environment variable: what it means, its default, how to read it, and where it lands in
 * GatewayConfig. docs/CONFIGURATION.md is generated from these (`npm run docs:config`).
 */
export interface Setting<T> {
  readonly env: string;
  /** One paragraph of Markdown (docs/CONFIGURATION.md), also quoted when a required setting is missing. */
  readonly description: string;
  /** Raw default used when the variable is unset; settings without one are required. */
  readonly default?: string;
  readonly optional?: boolean;
  /** Secrets are never printed, not even in error messages. */
  readonly secret?: boolean;
  /** Returns the value or throws an Error whose message says what is wrong (without echoing secrets). */
  readonly parse: (raw: string) => T;
  /**
   * The value becomes field `field` (default: the setting's key) of this group of GatewayConfig.
   * Unset: the setting is only read by rules and derived fields (load-config.ts, config-rules.ts).
   */
  readonly group?: SettingGroupName;
  readonly field?: string;
}

/** A description written over several source lines: the lines joined by single spaces. */
function prose(...lines: readonly string[]): string {
  return lines.join(' ');
}

/** A `require` object as JSON (docs/ROUTES.md), its faults named by key. */
function policyJson(raw: string): RoutePolicy {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error('must be a JSON object of claim conditions');
  }
  try {
    return routePolicy(value);
  } catch (error) {
    throw new Error(error instanceof JsonKeyError ? `${error.path} ${error.message}` : (error as Error).message);
  }
}

/**
 * Every setting, in the order docs/CONFIGURATION.md lists them. A new setting is one entry: with a
 * `group`, its parsed value (typed by its parser) becomes a field of that group of GatewayConfig; a
 * rule tying it to other settings is one entry of the rules in config-rules.ts.
 */
export const settings = {
  nodeEnv: {
    env: 'NODE_ENV',
    description: '`production` refuses development fallbacks: the in-process session store and OIDC_ALLOW_INSECURE_HTTP.',
    default: 'development',
    parse: (raw: string) => raw,
  },
  publicUrl: {
    env: 'PUBLIC_URL',
    description: "The gateway's external origin, as the browser sees it. Redirect URI is PUBLIC_URL + `/bff/callback`.",
    group: 'gateway',
    parse: origin,
  },
  corsAllowedOrigins: {
    env: 'CORS_ALLOWED_ORIGINS',
    description: prose(
      "Comma-separated origins besides PUBLIC_URL's allowed to call /api and /bff with credentials (CORS,",
      'never `*`); any other `Origin`, or `Sec-Fetch-Site: cross-site`, is refused with 403 `csrf`.',
    ),
    default: '',
    group: 'gateway',
    parse: origins,
  },
  host: { env: 'HOST', description: 'Interface to listen on.', default: '0.0.0.0', group: 'gateway', parse: nonEmpty },
  port: { env: 'PORT', description: 'Port to listen on.', default: '3000', group: 'gateway', parse: port },
  workers: {
    env: 'GATEWAY_WORKERS',
    description: prose(
      'Worker processes serving PORT (and ADMIN_PORT) together (`node:cluster`), or `auto`: one per core',
      'available. The first process only starts them and restarts one that crashes. They share nothing',
      'but Redis (each has its own session cache and invalidation feed), so more than 1 needs REDIS_URL,',
      'REDIS_SENTINELS or REDIS_CLUSTER_NODES. `/metrics` reports all workers together.',
    ),
    default: '1',
    group: 'gateway',
    parse: workerCount,
  },
  shutdownTimeoutMs: {
    env: 'SHUTDOWN_TIMEOUT_MS',
    description: prose(
      'On SIGTERM the gateway stops accepting, lets in-flight requests (streams included)',
      'finish and closes Redis; after this many milliseconds it exits anyway (code 1).',
    ),
    default: '15000',
    group: 'gateway',
    parse: positiveInteger,
  },
  logLevel: {
    env: 'LOG_LEVEL',
    description: 'pino log level (fatal, error, warn, info, debug, trace, silent).',
    default: 'info',
    group: 'gateway',
    parse: oneOf<string>('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  issuer: {
    env: 'OIDC_ISSUER',
    description: prose(
      "The OpenID Provider's issuer identifier; its discovery document must name exactly",
      'this issuer. `http://` only on a loopback host (or with OIDC_ALLOW_INSECURE_HTTP).',
    ),
    group: 'oidc',
    parse: httpUrl,
  },
  clientId: { env: 'OIDC_CLIENT_ID', description: 'Client id registered at the provider.', group: 'oidc', parse: nonEmpty },
  clientAuthMethod: {
    env: 'OIDC_CLIENT_AUTH_METHOD',
    description: prose(
      'How the gateway authenticates at the token endpoint: `client_secret_basic` (id and secret',
      'form-encoded, then base64, per RFC 6749 §2.3.1), `client_secret_post` or `private_key_jwt`.',
      'Glewlwyd 2.7 and LemonLDAP::NG 2.16 do not form-decode client_secret_basic credentials, so a secret',
      'with any character but letters and digits fails there: use `client_secret_post` (docs/INTEROP.md).',
    ),
    default: 'client_secret_basic',
    parse: oneOf<ClientAuthMethod>('client_secret_basic', 'client_secret_post', 'private_key_jwt'),
  },
  clientSecret: {
    env: 'OIDC_CLIENT_SECRET',
    description: 'Client secret (client_secret_basic, client_secret_post). Required for those methods.',
    optional: true,
    secret: true,
    parse: nonEmpty,
  },
  clientPrivateKey: {
    env: 'OIDC_CLIENT_PRIVATE_KEY',
    description: prose(
      'Private JWK (JSON, with `kid`) signing the client assertion; required',
      'for private_key_jwt. Register its public half at the provider.',
    ),
    optional: true,
    secret: true,
    parse: privateJwk,
  },
  usePar: {
    env: 'OIDC_USE_PAR',
    description: prose(
      'Send the authorization request by PAR (RFC 9126) when the',
      'provider offers it; the browser then carries only `request_uri`.',
    ),
    default: 'true',
    group: 'oidc',
    parse: boolean,
  },
  maxAgeSeconds: {
    env: 'OIDC_MAX_AGE',
    description: prose(
      'Seconds since the user last authenticated at the provider beyond',
      'which a login is refused (`max_age`, checked on `auth_time`).',
    ),
    optional: true,
    group: 'oidc',
    parse: nonNegativeInteger,
  },
  dpop: {
    env: 'OIDC_DPOP',
    description: prose(
      '`true`: every token is sender-constrained with DPoP (RFC 9449): each session holds its own key pair (in its',
      'encrypted record), proves possession at the token endpoint and sends a fresh proof with every API call and',
      'WebSocket handshake; a provider that does not advertise DPoP stops the start, and a `Bearer` token is refused.',
      '`optional`: the same, but a provider that ignores DPoP gets its tokens sent as Bearer. `false`: Bearer only,',
      'except on routes with `"dpop": true`.',
    ),
    default: 'false',
    group: 'oidc',
    parse: oneOf<DpopMode>('true', 'optional', 'false'),
  },
  dpopAlg: {
    env: 'OIDC_DPOP_ALG',
    description: "The JWS algorithm of the sessions' DPoP keys: `ES256` or `EdDSA` (Ed25519).",
    default: 'ES256',
    group: 'oidc',
    parse: oneOf<'ES256' | 'EdDSA'>('ES256', 'EdDSA'),
  },
  securityProfile: {
    env: 'SECURITY_PROFILE',
    description: prose(
      '`fapi2`: enforce the FAPI 2.0 Security Profile for a confidential client (docs/FAPI2.md): PAR, PKCE S256,',
      '`private_key_jwt`, DPoP, the RFC 9207 `iss` check, PS256/ES256/EdDSA only; every setting that contradicts it',
      'stops the start. `none`: no profile.',
    ),
    default: 'none',
    group: 'oidc',
    parse: oneOf<SecurityProfile>('none', 'fapi2'),
  },
  scopes: {
    env: 'OIDC_SCOPES',
    description: 'Scopes requested at login (space separated); `offline_access` gets a refresh token.',
    default: 'openid profile email offline_access',
    group: 'oidc',
    parse: scopes,
  },
  idTokenSigningAlg: {
    env: 'OIDC_ID_TOKEN_ALG',
    description: 'The only JWS algorithm accepted on ID tokens (asymmetric algorithms only).',
    default: 'RS256',
    group: 'oidc',
    parse: oneOf<string>(...ASYMMETRIC_JWS_ALGS),
  },
  fetchUserinfo: {
    env: 'OIDC_FETCH_USERINFO',
    description: prose(
      "`true`: after the code exchange, fetch the provider's userinfo endpoint with the access token, refuse a",
      "login whose userinfo `sub` is not the ID token's (400 `invalid_id_token`), and keep its claims in the",
      "session: /bff/user and route policies (`require`) then see them beside the ID token's, which win on a",
      'conflict. For providers that put scope claims in userinfo only (OIDC Core §5.4). Fetched once, at login.',
    ),
    default: 'false',
    group: 'oidc',
    parse: boolean,
  },
  authorizationResources: {
    env: 'OIDC_AUTHORIZATION_RESOURCES',
    description: prose(
      'Space-separated absolute URIs sent as RFC 8707 `resource` parameters in the authorization',
      'request and the PAR body, for providers that bind a grant to the',
      'resources named at authorization (Glewlwyd) and refuse a refresh for any other (403 `resource_refused`).',
      'Usually the `resource` of the API_ROUTES that need one; see docs/TOKENS.md.',
    ),
    default: '',
    group: 'oidc',
    parse: resourceIndicators,
  },
  allowInsecureHttp: {
    env: 'OIDC_ALLOW_INSECURE_HTTP',
    description: 'Allow an http:// issuer on a non-loopback host (logged as a warning). Never in production.',
    default: 'false',
    parse: boolean,
  },
  postLogoutRedirectPath: {
    env: 'POST_LOGOUT_REDIRECT_PATH',
    description: 'Where the provider sends the browser after logout (a path on PUBLIC_URL, registered at the provider).',
    default: '/',
    parse: localPath,
  },
  // Redis: exactly one topology (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES); see redis-config.ts.
  redisUrl: {
    env: 'REDIS_URL',
    description: prose(
      'A standalone Redis (or a primary) for sessions: `redis://`, or `rediss://` for TLS,',
      'with the ACL user and password in the URL (`rediss://user:password@host:6380`).',
      'Unset, with no REDIS_SENTINELS or REDIS_CLUSTER_NODES: an in-process store,',
      'announced by a start-up warning and refused when NODE_ENV=production.',
    ),
    optional: true,
    parse: redisUrl,
  },
  redisSentinels: {
    env: 'REDIS_SENTINELS',
    description: 'Redis behind Sentinel: comma-separated `host:port` of the sentinels (with REDIS_SENTINEL_NAME).',
    optional: true,
    parse: hostPortList,
  },
  redisSentinelName: {
    env: 'REDIS_SENTINEL_NAME',
    description: 'The master group name the sentinels monitor (required with REDIS_SENTINELS).',
    optional: true,
    parse: nonEmpty,
  },
  redisSentinelPassword: {
    env: 'REDIS_SENTINEL_PASSWORD',
    description: 'Password of the sentinels themselves (`requirepass` in sentinel.conf), if any.',
    optional: true,
    secret: true,
    parse: nonEmpty,
  },
  redisClusterNodes: {
    env: 'REDIS_CLUSTER_NODES',
    description: 'Redis Cluster: comma-separated `host:port` of some of its nodes (the rest are discovered).',
    optional: true,
    parse: hostPortList,
  },
  redisUsername: {
    env: 'REDIS_USERNAME',
    description: prose(
      'ACL user on the Redis data nodes with REDIS_SENTINELS or REDIS_CLUSTER_NODES',
      '(needs REDIS_PASSWORD; with REDIS_URL it goes in the URL).',
    ),
    optional: true,
    parse: nonEmpty,
  },
  redisPassword: {
    env: 'REDIS_PASSWORD',
    description: prose(
      'Password on the Redis data nodes with REDIS_SENTINELS or',
      'REDIS_CLUSTER_NODES (with REDIS_URL it goes in the URL).',
    ),
    optional: true,
    secret: true,
    parse: nonEmpty,
  },
  redisTls: {
    env: 'REDIS_TLS',
    description: prose(
      '`true`: TLS on every Redis connection (sentinels too) with REDIS_SENTINELS',
      'or REDIS_CLUSTER_NODES (with REDIS_URL: `rediss://`). Unset: no TLS.',
    ),
    optional: true,
    parse: boolean,
  },
  redisTlsCaFile: {
    env: 'REDIS_TLS_CA_FILE',
    description: prose(
      "PEM file of the CA(s) that sign the Redis servers'",
      "certificates, trusted instead of the system's CAs (needs TLS).",
    ),
    optional: true,
    parse: pemFile,
  },
  encryptionKeys: {
    env: 'SESSION_ENCRYPTION_KEY',
    description: prose(
      'Base64 of 32 random bytes (`openssl rand -base64 32`): encrypts tokens at rest',
      '(AES-256-GCM). To rotate, list several, newest first, each optionally named:',
      '`k2:<base64>,k1:<base64>`; the first encrypts, all decrypt (see SECURITY.md).',
    ),
    secret: true,
    group: 'session',
    parse: encryptionKeys,
  },
  indexKey: {
    env: 'SESSION_INDEX_KEY',
    description: prose(
      'Base64 of 32 bytes keying the HMACs that name the session indexes in Redis',
      '(users, provider sessions, public ids). Default: the one SESSION_ENCRYPTION_KEY;',
      'required once that lists several keys, and never rotated with them.',
    ),
    optional: true,
    secret: true,
    parse: encryptionKey,
  },
  idleTimeoutSeconds: {
    env: 'SESSION_IDLE_TIMEOUT',
    description: 'Seconds without a request after which a session ends (each request slides it; see SESSION_TOUCH_INTERVAL).',
    default: '1800',
    group: 'session',
    parse: positiveInteger,
  },
  absoluteTimeoutSeconds: {
    env: 'SESSION_ABSOLUTE_TIMEOUT',
    description: 'Seconds after login after which a session ends, however active.',
    default: '28800',
    group: 'session',
    parse: positiveInteger,
  },
  cookieName: {
    env: 'SESSION_COOKIE_NAME',
    description: prose(
      'Session cookie name. Default `__Host-sessiongate` on https, `sessiongate` on http.',
      '`__Host-Http-sessiongate` (cookie prefixes draft: only an HttpOnly Set-Cookie may',
      'set it), `__Secure-` and `__Http-` names need https (refused at start-up on http).',
    ),
    optional: true,
    parse: cookieName,
  },
  sameSite: {
    env: 'SESSION_COOKIE_SAMESITE',
    description: prose(
      'SameSite of the session cookie: `strict` or `lax`. The pre-login cookie',
      "is always `Lax`, so that it survives the provider's redirect back.",
    ),
    default: 'strict',
    group: 'session',
    parse: oneOf<SameSite>('lax', 'strict'),
  },
  loginTimeoutSeconds: {
    env: 'LOGIN_TIMEOUT',
    description: 'Seconds a started login may take before its state expires.',
    default: '600',
    group: 'session',
    parse: positiveInteger,
  },
  refreshSkewSeconds: {
    env: 'TOKEN_REFRESH_SKEW',
    description: 'Seconds before access-token expiry (from `expires_in`) at which it is refreshed.',
    default: '30',
    group: 'tokens',
    parse: nonNegativeInteger,
  },
  resourceParameter: {
    env: 'TOKEN_RESOURCE_PARAMETER',
    description: "How a route's `resource` is sent to the provider: `resource` (RFC 8707) or `audience` (Auth0).",
    default: 'resource',
    group: 'tokens',
    parse: oneOf<ResourceParameter>('resource', 'audience'),
  },
  exchangeSubjectTokenType: {
    env: 'TOKEN_EXCHANGE_SUBJECT_TOKEN',
    description: prose(
      'What a `"token": "exchange"` route hands the provider as `subject_token` (RFC 8693): the user\'s',
      '`access_token` (issued at login), or the `id_token` where the provider requires that.',
    ),
    default: 'access_token',
    group: 'tokens',
    parse: oneOf<ExchangeSubjectTokenType>('access_token', 'id_token'),
  },
  refreshLockLeaseMs: {
    env: 'REFRESH_LOCK_LEASE_MS',
    description: prose(
      "Milliseconds of a session's refresh lock lease, renewed every third of it",
      'while a refresh runs (a holder that dies frees the lock when it runs out).',
    ),
    default: '5000',
    group: 'tokens',
    parse: positiveInteger,
  },
  refreshWaitMs: {
    env: 'REFRESH_WAIT_TIMEOUT_MS',
    description: 'Milliseconds a request waits for a refresh running elsewhere before answering 503 `refresh_timeout`.',
    default: '10000',
    group: 'tokens',
    parse: positiveInteger,
  },
  // The three route limits are only defaults of API_ROUTES entries (see config-rules.ts).
  upstreamTimeout: {
    env: 'UPSTREAM_TIMEOUT_MS',
    description: prose(
      'Milliseconds an upstream API may take to send its response headers (not the whole',
      'response) before the gateway returns 504; a route may set its own `timeoutMs`.',
    ),
    default: '30000',
    parse: positiveInteger,
  },
  upstreamIdleTimeout: {
    env: 'UPSTREAM_IDLE_TIMEOUT_MS',
    description: prose(
      'Milliseconds of silence allowed inside an upstream response body (0: none, for',
      'long-lived streams); a route may set its own `idleTimeoutMs`. Not applied to WebSockets.',
    ),
    default: '300000',
    parse: nonNegativeInteger,
  },
  maxBodyBytes: {
    env: 'PROXY_MAX_BODY_BYTES',
    description: prose(
      'Largest request body forwarded to an API (413 `payload_too_large` beyond it; a chunked body is cut',
      'off as it passes the limit, never buffered to be measured); a route may set its own `maxBodyBytes`.',
    ),
    default: '10485760',
    parse: nonNegativeInteger,
  },
  connectTimeoutMs: {
    env: 'UPSTREAM_CONNECT_TIMEOUT_MS',
    description: 'Milliseconds to connect to an upstream API before the gateway returns 502.',
    default: '5000',
    group: 'proxy',
    parse: positiveInteger,
  },
  // Read with the route limits above, which are parsed first (see config-rules.ts).
  apiRoutes: {
    env: 'API_ROUTES',
    description: prose(
      'JSON array of `{ "prefix": "/api/todos", "target": "http://127.0.0.1:4000/v1", "token": "user" |',
      '"optional" | "client" | "exchange" | "none", "resource": "https://todos.example.com", "scopes": "todos:read",',
      '"maxBodyBytes": 1048576, "timeoutMs": 30000, "idleTimeoutMs": 300000, "allowSetCookie": false,',
      '"websocket": false }`: the only upstreams the gateway calls. All but prefix and target optional:',
      '`token` defaults to `user`, `audience` may replace `resource`, the limits default to the global',
      'settings. `/api/todos/7?x=1` goes to `http://127.0.0.1:4000/v1/7?x=1`. `allowSetCookie: true`',
      "lets the API's `Set-Cookie` reach the browser; `websocket: true` lets browsers open WebSockets",
      'to the route (checked by `Origin` and session instead of `X-CSRF`). Route policies (docs/ROUTES.md):',
      '`"methods": ["GET"]` (others: 405 `method_not_allowed`), `"require": { "groups": { "containsAnyOf":',
      '["ops"] }, "email_verified": true, "scope": ["todos:write"] }` (403 `forbidden` unless every condition',
      'holds), `"bearer": { "audience": "https://todos.example.com", "scopes": ["todos:read"] }` (callers',
      'without a session may send a JWT access token for that audience instead). `acr` (an array of acr',
      'values) and `maxAge` (seconds since `auth_time`) ask a step-up of the session (RFC 9470; `user` routes',
      'only): 401 `step_up_required` with a `loginUrl` when it does not meet them (docs/STEP-UP.md). `exchange`:',
      "the user's token exchanged (RFC 8693) for one meant for `resource`, cached per session and target.",
      '`"dpop": true` sends this route\'s token DPoP-bound even when OIDC_DPOP=false (it needs its own `resource` or `scopes`).',
    ),
    default: '[]',
    parse: (raw: string) => raw,
  },
  routesDefaultRequire: {
    env: 'ROUTES_DEFAULT_REQUIRE',
    description: prose(
      "JSON, the syntax of a route's `require` (docs/ROUTES.md): applies to every API_ROUTES entry that",
      'declares no `require` of its own, so that a route is closed unless it says otherwise',
      '(`"require": {}` opens one). With conditions, every such route needs a caller, even a `none` route.',
    ),
    optional: true,
    parse: policyJson,
  },
  // Read by its rule, with PUBLIC_URL and the routes that name its connections (see config-rules.ts).
  connections: {
    env: 'CONNECTIONS',
    description: prose(
      'JSON array of third-party OAuth 2.0 providers users may connect their accounts at (docs/CONNECTIONS.md):',
      '`{ "name": "calendar", "issuer": "https://calendar.example", "clientId": "…", "clientSecret": "…",',
      '"scopes": "calendar:read", "persist": "session" }`. `issuer` is discovered (RFC 8414, else OpenID',
      'Connect discovery); instead, give `authorizationEndpoint` and `tokenEndpoint` (and `revocationEndpoint`).',
      '`clientAuthMethod`: `client_secret_basic` (default), `client_secret_post` or `private_key_jwt` (with',
      '`privateKey`, a JWK object). `persist: "user"` keeps a connection across the user\'s sessions',
      '(`persistSeconds` after its last refresh, default 30 days). Register PUBLIC_URL +',
      '`/bff/connect/<name>/callback` at the provider. Routes relay a connection\'s token with `"token": "connected:<name>"`.',
    ),
    default: '[]',
    secret: true,
    parse: (raw: string) => raw,
  },
  websocketSessionCheckMs: {
    env: 'WEBSOCKET_SESSION_CHECK_MS',
    description: prose(
      'Milliseconds between checks that the session of an open WebSocket still exists. A session ended',
      'on any instance closes its WebSockets as soon as the store announces it (Redis pub/sub,',
      'standalone or Sentinel), and at the next check in any case; at its absolute expiry at the latest.',
    ),
    default: '5000',
    group: 'proxy',
    parse: positiveInteger,
  },
  spaDir: {
    env: 'SPA_DIR',
    description: 'Folder of static files served at `/` (the SPA), if any.',
    optional: true,
    group: 'gateway',
    parse: existingFolder,
  },
  touchInterval: {
    env: 'SESSION_TOUCH_INTERVAL',
    description: prose(
      "Seconds: a session's sliding idle expiry is written to Redis at most this often (0:",
      'on every request), so a session may end up to this much before SESSION_IDLE_TIMEOUT',
      'after its last request. Default 1% of SESSION_IDLE_TIMEOUT, at most 60.',
    ),
    optional: true,
    parse: nonNegativeInteger,
  },
  sessionCache: {
    env: 'SESSION_CACHE',
    description: prose(
      "`local`: a request may be answered from the instance's memory, kept current by Redis",
      'pub/sub (see SECURITY.md); off on a Redis Cluster (no invalidation feed there: every',
      'read goes to Redis). `verify`: every request reads the session from Redis.',
    ),
    default: 'local',
    group: 'session',
    field: 'cache',
    parse: oneOf<SessionCacheMode>('local', 'verify'),
  },
  adminAudience: {
    env: 'ADMIN_JWT_AUDIENCE',
    description: 'Turns on the admin API (/admin): the `aud` its bearer tokens must carry.',
    optional: true,
    group: 'admin',
    field: 'audience',
    parse: nonEmpty,
  },
  adminAlgorithms: {
    env: 'ADMIN_JWT_ALGS',
    description: prose(
      'Comma-separated JWS algorithms accepted on admin tokens',
      '(asymmetric only: `none` and HS* are refused at start-up).',
    ),
    default: 'RS256',
    group: 'admin',
    field: 'algorithms',
    parse: asymmetricAlgorithms,
  },
  adminScope: {
    env: 'ADMIN_REQUIRED_SCOPE',
    description: 'The scope (in `scope` or `scp`) or role (in `roles`) an admin token must carry.',
    default: 'sessions:admin',
    group: 'admin',
    field: 'requiredScope',
    parse: scopeToken,
  },
  trustProxy: {
    env: 'TRUST_PROXY',
    description: prose(
      'Comma-separated addresses or CIDR ranges (or `loopback`, `linklocal`, `uniquelocal`) of reverse proxies whose',
      '`X-Forwarded-For` names the client. Empty: the client is the socket address, and `X-Forwarded-For` is ignored.',
    ),
    default: '',
    group: 'gateway',
    parse: trustedProxies,
  },
  forwardAuthPath: {
    env: 'FORWARD_AUTH_PATH',
    description: prose(
      'Turns on forward-auth mode (docs/FORWARD-AUTH.md): the path under /bff/ where an ingress (nginx, Caddy,',
      'Traefik, Envoy) asks whether an /api request may pass, and with which token; the snippets in',
      'deploy/forward-auth call `/bff/forward-auth`. Answers only TRUST_PROXY addresses (which it needs): keep',
      'the path closed on the public side of the ingress, its yes carries an access token. Unset: off.',
    ),
    optional: true,
    group: 'gateway',
    parse: bffPath,
  },
  loginRateLimit: {
    env: 'RATE_LIMIT_LOGIN',
    description: prose(
      'Requests to /bff/login per client address (IPv6: per /64) per RATE_LIMIT_WINDOW, counted in',
      'Redis, so shared by all instances (429 `rate_limited` with Retry-After beyond; 0: no limit).',
    ),
    default: '30',
    group: 'rateLimit',
    field: 'login',
    parse: nonNegativeInteger,
  },
  callbackRateLimit: {
    env: 'RATE_LIMIT_CALLBACK',
    description: prose(
      'Requests to /bff/callback per client address per RATE_LIMIT_WINDOW,',
      "counted apart from the login's (429 beyond; 0: no limit).",
    ),
    default: '30',
    group: 'rateLimit',
    field: 'callback',
    parse: nonNegativeInteger,
  },
  rateLimitWindow: {
    env: 'RATE_LIMIT_WINDOW',
    description: 'Seconds of the fixed window the login and callback limits count in.',
    default: '60',
    group: 'rateLimit',
    field: 'windowMs',
    parse: (raw: string) => positiveInteger(raw) * 1000,
  },
  adminPort: {
    env: 'ADMIN_PORT',
    description: prose(
      'Serve /admin (and its docs) on this port only (a second listener on',
      'HOST), not on PORT. Needs ADMIN_JWT_AUDIENCE; must differ from PORT.',
    ),
    optional: true,
    group: 'admin',
    field: 'port',
    parse: port,
  },
  adminConsoleRequire: {
    env: 'ADMIN_CONSOLE_REQUIRE',
    description: prose(
      'Turns on the admin console (`/admin/console`, docs/ADMIN-CONSOLE.md): JSON, the conditions on the',
      "operator's claims, in the syntax of a route's `require` (docs/ROUTES.md; claims only, no `scope`), e.g.",
      '`{"groups":{"containsAnyOf":["admins"]}}`; checked at login and on every call (403 `not_admin`).',
      'Needs ADMIN_JWT_AUDIENCE; register ADMIN_CONSOLE_URL + `/admin/console/callback` at the provider.',
    ),
    optional: true,
    group: 'admin',
    field: 'consoleRequire',
    parse: (raw: string) => {
      const policy = policyJson(raw);
      // The console session keeps no access token, so a scope could be checked at login but never again.
      if (policy.scope.length > 0)
        throw new Error('scope: the console holds no access token whose scope could be checked on every call; require a claim');
      if (policy.claims.length === 0)
        throw new Error('must hold at least one claim condition: an empty one lets every user of the provider in');
      return policy;
    },
  },
  adminConsoleUrl: {
    env: 'ADMIN_CONSOLE_URL',
    description: prose(
      "The admin console's origin as operators' browsers see it: its redirect URI is this +",
      '`/admin/console/callback`, and its calls must come from it (`Origin`). Default PUBLIC_URL;',
      'required with ADMIN_PORT (the console is then served there only).',
    ),
    optional: true,
    group: 'admin',
    field: 'consoleUrl',
    parse: origin,
  },
  adminConsoleSessionTimeout: {
    env: 'ADMIN_CONSOLE_SESSION_TIMEOUT',
    description: prose('Seconds a console login lasts however active (at most SESSION_ABSOLUTE_TIMEOUT; idle: SESSION_IDLE_TIMEOUT).'),
    default: '3600',
    group: 'admin',
    field: 'consoleSessionTimeoutSeconds',
    parse: positiveInteger,
  },
  metricsEnabled: {
    env: 'METRICS_ENABLED',
    description: 'Serve Prometheus metrics at /metrics: on ADMIN_PORT when it is set, else on PORT.',
    default: 'true',
    group: 'metrics',
    field: 'enabled',
    parse: boolean,
  },
  // OpenTelemetry's own variable names (its SDK specification), read here like any other setting.
  otlpEndpoint: {
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    description: prose(
      'Turns on OpenTelemetry traces (docs/TRACING.md): the OTLP/HTTP collector base URL, spans are sent as JSON to',
      'its `v1/traces`. Unset (and no OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): no tracing at all, at no cost.',
    ),
    optional: true,
    parse: httpUrl,
  },
  otlpTracesEndpoint: {
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    description: 'The OTLP/HTTP traces URL, used as it is (no `v1/traces` appended); wins over OTEL_EXPORTER_OTLP_ENDPOINT.',
    optional: true,
    parse: httpUrl,
  },
  serviceName: {
    env: 'OTEL_SERVICE_NAME',
    description: 'The `service.name` of every span the gateway sends.',
    default: 'sessiongate',
    parse: nonEmpty,
  },
  traceSampler: {
    env: 'OTEL_TRACES_SAMPLER',
    description: prose(
      'Which requests are traced: `always_on`, `always_off`, `traceidratio` (OTEL_TRACES_SAMPLER_ARG of them),',
      'or `parentbased_` + one of those, which follows a trusted incoming `traceparent` (OTEL_TRUST_INCOMING_TRACE).',
    ),
    default: 'parentbased_always_on',
    parse: oneOf<TraceSamplerName>(
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ),
  },
  traceSamplerArg: {
    env: 'OTEL_TRACES_SAMPLER_ARG',
    description: 'The share of traces kept by a `traceidratio` sampler, from 0 to 1 (unset: 1); only read by those two samplers.',
    optional: true,
    parse: probability,
  },
  traceExportDelay: {
    env: 'OTEL_BSP_SCHEDULE_DELAY',
    description: 'Milliseconds between two exports of the spans ended meanwhile (in batches; what is left is sent at shutdown).',
    default: '5000',
    parse: positiveInteger,
  },
  trustIncomingTrace: {
    env: 'OTEL_TRUST_INCOMING_TRACE',
    description: prose(
      "Continue the browser's W3C `traceparent`/`tracestate` (it then also decides sampling under a `parentbased_`",
      'sampler). `false`: every request starts a new trace, and what the browser sent is replaced before the API sees it.',
    ),
    default: 'false',
    parse: boolean,
  },
} as const satisfies Record<string, Setting<unknown>>;

type Table = typeof settings;
type ValueOf<S> = S extends { readonly parse: (raw: string) => infer T }
  ? S extends { readonly optional: true }
    ? T | undefined
    : T
  : never;
type FieldOf<K, S> = S extends { readonly field: infer F extends string } ? F : K;

export type SettingKey = keyof Table;

/** Every setting's value, typed by its parser: undefined only for an optional setting left unset. */
export type SettingValues = { readonly [K in SettingKey]: ValueOf<Table[K]> };

/** The settings that land in `group` of GatewayConfig, by field name. */
export type SettingGroup<G extends SettingGroupName> = {
  readonly [K in SettingKey as Table[K] extends { readonly group: G } ? FieldOf<K, Table[K]> : never]: ValueOf<Table[K]>;
};

/** The values of the settings in `group`, under their field names. */
export function settingGroup<G extends SettingGroupName>(values: SettingValues, group: G): SettingGroup<G> {
  const fields = Object.entries(settings as Record<SettingKey, Setting<unknown>>)
    .filter(([, setting]) => setting.group === group)
    .map(([key, setting]) => [setting.field ?? key, values[key as SettingKey]]);
  // Built from the same table the type is, entry by entry.
  return Object.fromEntries(fields) as SettingGroup<G>;
}
