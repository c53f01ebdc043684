import type { ClientAuthMethod, ResourceParameter, SameSite, SessionCacheMode } from './config.types.js';
import {
  ASYMMETRIC_JWS_ALGS,
  asymmetricAlgorithms,
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
  privateJwk,
  redisUrl,
  scopes,
  scopeToken,
  trustedProxies,
} from './setting-parsers.js';

/** One environment variable: what it means, its default, and how to read it. docs/CONFIGURATION.md is generated from these (`npm run docs:config`). */
export interface Setting<T> {
  readonly env: string;
  readonly description: string;
  /** Raw default used when the variable is unset; settings without one are required. */
  readonly default?: string;
  readonly optional?: boolean;
  /** Secrets are never printed, not even in error messages. */
  readonly secret?: boolean;
  /** Returns the value or throws an Error whose message says what is wrong (without echoing secrets). */
  readonly parse: (raw: string) => T;
}

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
    parse: origin,
  },
  corsAllowedOrigins: {
    env: 'CORS_ALLOWED_ORIGINS',
    description:
      "Comma-separated origins besides PUBLIC_URL's allowed to call /api and /bff with credentials (CORS, never `*`); any other `Origin`, or `Sec-Fetch-Site: cross-site`, is refused with 403 `csrf`.",
    default: '',
    parse: origins,
  },
  host: { env: 'HOST', description: 'Interface to listen on.', default: '0.0.0.0', parse: nonEmpty },
  port: { env: 'PORT', description: 'Port to listen on.', default: '3000', parse: port },
  shutdownTimeout: {
    env: 'SHUTDOWN_TIMEOUT_MS',
    description:
      'On SIGTERM the gateway stops accepting, lets in-flight requests (streams included) finish and closes Redis; after this many milliseconds it exits anyway (code 1).',
    default: '15000',
    parse: positiveInteger,
  },
  logLevel: {
    env: 'LOG_LEVEL',
    description: 'pino log level (fatal, error, warn, info, debug, trace, silent).',
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  issuer: {
    env: 'OIDC_ISSUER',
    description:
      "The OpenID Provider's issuer identifier; its discovery document must name exactly this issuer. `http://` only on a loopback host (or with OIDC_ALLOW_INSECURE_HTTP).",
    parse: httpUrl,
  },
  clientId: { env: 'OIDC_CLIENT_ID', description: 'Client id registered at the provider.', parse: nonEmpty },
  clientAuthMethod: {
    env: 'OIDC_CLIENT_AUTH_METHOD',
    description:
      'How the gateway authenticates at the token endpoint: `client_secret_basic` (id and secret form-encoded, then base64, per RFC 6749 §2.3.1), `client_secret_post` or `private_key_jwt`.',
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
    description:
      'Private JWK (JSON, with `kid`) signing the client assertion; required for private_key_jwt. Register its public half at the provider.',
    optional: true,
    secret: true,
    parse: privateJwk,
  },
  usePar: {
    env: 'OIDC_USE_PAR',
    description:
      'Send the authorization request by PAR (RFC 9126) when the provider offers it; the browser then carries only `request_uri`.',
    default: 'true',
    parse: boolean,
  },
  maxAge: {
    env: 'OIDC_MAX_AGE',
    description:
      'Seconds since the user last authenticated at the provider beyond which a login is refused (`max_age`, checked on `auth_time`).',
    optional: true,
    parse: nonNegativeInteger,
  },
  scopes: {
    env: 'OIDC_SCOPES',
    description: 'Scopes requested at login (space separated); `offline_access` gets a refresh token.',
    default: 'openid profile email offline_access',
    parse: scopes,
  },
  idTokenSigningAlg: {
    env: 'OIDC_ID_TOKEN_ALG',
    description: 'The only JWS algorithm accepted on ID tokens (asymmetric algorithms only).',
    default: 'RS256',
    parse: oneOf<string>(...ASYMMETRIC_JWS_ALGS),
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
    description:
      'A standalone Redis (or a primary) for sessions: `redis://`, or `rediss://` for TLS, with the ACL user and password in the URL (`rediss://user:password@host:6380`). Unset, with no REDIS_SENTINELS or REDIS_CLUSTER_NODES: an in-process store, announced by a start-up warning and refused when NODE_ENV=production.',
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
    description:
      'ACL user on the Redis data nodes with REDIS_SENTINELS or REDIS_CLUSTER_NODES (needs REDIS_PASSWORD; with REDIS_URL it goes in the URL).',
    optional: true,
    parse: nonEmpty,
  },
  redisPassword: {
    env: 'REDIS_PASSWORD',
    description: 'Password on the Redis data nodes with REDIS_SENTINELS or REDIS_CLUSTER_NODES (with REDIS_URL it goes in the URL).',
    optional: true,
    secret: true,
    parse: nonEmpty,
  },
  redisTls: {
    env: 'REDIS_TLS',
    description:
      '`true`: TLS on every Redis connection (sentinels too) with REDIS_SENTINELS or REDIS_CLUSTER_NODES (with REDIS_URL: `rediss://`). Unset: no TLS.',
    optional: true,
    parse: boolean,
  },
  redisTlsCaFile: {
    env: 'REDIS_TLS_CA_FILE',
    description: "PEM file of the CA(s) that sign the Redis servers' certificates, trusted instead of the system's CAs (needs TLS).",
    optional: true,
    parse: pemFile,
  },
  encryptionKeys: {
    env: 'SESSION_ENCRYPTION_KEY',
    description:
      'Base64 of 32 random bytes (`openssl rand -base64 32`): encrypts tokens at rest (AES-256-GCM). To rotate, list several, newest first, each optionally named: `k2:<base64>,k1:<base64>`; the first encrypts, all decrypt (see SECURITY.md).',
    secret: true,
    parse: encryptionKeys,
  },
  indexKey: {
    env: 'SESSION_INDEX_KEY',
    description:
      'Base64 of 32 bytes keying the HMACs that name the session indexes in Redis (users, provider sessions, public ids). Default: the one SESSION_ENCRYPTION_KEY; required once that lists several keys, and never rotated with them.',
    optional: true,
    secret: true,
    parse: encryptionKey,
  },
  idleTimeout: {
    env: 'SESSION_IDLE_TIMEOUT',
    description: 'Seconds without a request after which a session ends (each request slides it; see SESSION_TOUCH_INTERVAL).',
    default: '1800',
    parse: positiveInteger,
  },
  absoluteTimeout: {
    env: 'SESSION_ABSOLUTE_TIMEOUT',
    description: 'Seconds after login after which a session ends, however active.',
    default: '28800',
    parse: positiveInteger,
  },
  cookieName: {
    env: 'SESSION_COOKIE_NAME',
    description:
      'Session cookie name. Default `__Host-sessiongate` on https, `sessiongate` on http. `__Host-Http-sessiongate` (cookie prefixes draft: only an HttpOnly Set-Cookie may set it), `__Secure-` and `__Http-` names need https (refused at start-up on http).',
    optional: true,
    parse: cookieName,
  },
  sameSite: {
    env: 'SESSION_COOKIE_SAMESITE',
    description:
      "SameSite of the session cookie: `strict` or `lax`. The pre-login cookie is always `Lax`, so that it survives the provider's redirect back.",
    default: 'strict',
    parse: oneOf<SameSite>('lax', 'strict'),
  },
  loginTimeout: {
    env: 'LOGIN_TIMEOUT',
    description: 'Seconds a started login may take before its state expires.',
    default: '600',
    parse: positiveInteger,
  },
  refreshSkew: {
    env: 'TOKEN_REFRESH_SKEW',
    description: 'Seconds before access-token expiry (from `expires_in`) at which it is refreshed.',
    default: '30',
    parse: nonNegativeInteger,
  },
  resourceParameter: {
    env: 'TOKEN_RESOURCE_PARAMETER',
    description: "How a route's `resource` is sent to the provider: `resource` (RFC 8707) or `audience` (Auth0).",
    default: 'resource',
    parse: oneOf<ResourceParameter>('resource', 'audience'),
  },
  refreshLockLease: {
    env: 'REFRESH_LOCK_LEASE_MS',
    description:
      "Milliseconds of a session's refresh lock lease, renewed every third of it while a refresh runs (a holder that dies frees the lock when it runs out).",
    default: '5000',
    parse: positiveInteger,
  },
  refreshWait: {
    env: 'REFRESH_WAIT_TIMEOUT_MS',
    description: 'Milliseconds a request waits for a refresh running elsewhere before answering 503 `refresh_timeout`.',
    default: '10000',
    parse: positiveInteger,
  },
  upstreamTimeout: {
    env: 'UPSTREAM_TIMEOUT_MS',
    description:
      'Milliseconds an upstream API may take to send its response headers (not the whole response) before the gateway returns 504; a route may set its own `timeoutMs`.',
    default: '30000',
    parse: positiveInteger,
  },
  upstreamIdleTimeout: {
    env: 'UPSTREAM_IDLE_TIMEOUT_MS',
    description:
      'Milliseconds of silence allowed inside an upstream response body (0: none, for long-lived streams); a route may set its own `idleTimeoutMs`. Not applied to WebSockets.',
    default: '300000',
    parse: nonNegativeInteger,
  },
  maxBodyBytes: {
    env: 'PROXY_MAX_BODY_BYTES',
    description:
      'Largest request body forwarded to an API (413 `payload_too_large` beyond it; a chunked body is cut off as it passes the limit, never buffered to be measured); a route may set its own `maxBodyBytes`.',
    default: '10485760',
    parse: nonNegativeInteger,
  },
  connectTimeout: {
    env: 'UPSTREAM_CONNECT_TIMEOUT_MS',
    description: 'Milliseconds to connect to an upstream API before the gateway returns 502.',
    default: '5000',
    parse: positiveInteger,
  },
  apiRoutes: {
    env: 'API_ROUTES',
    description:
      'JSON array of `{ "prefix": "/api/todos", "target": "http://127.0.0.1:4000/v1", "token": "user" | "optional" | "client" | "none", "resource": "https://todos.example.com", "scopes": "todos:read", "maxBodyBytes": 1048576, "timeoutMs": 30000, "idleTimeoutMs": 300000, "allowSetCookie": false, "websocket": false }`: the only upstreams the gateway calls. All but prefix and target optional: `token` defaults to `user`, `audience` may replace `resource`, the limits default to the global settings. `/api/todos/7?x=1` goes to `http://127.0.0.1:4000/v1/7?x=1`. `allowSetCookie: true` lets the API\'s `Set-Cookie` reach the browser; `websocket: true` lets browsers open WebSockets to the route (checked by `Origin` and session instead of `X-CSRF`).',
    default: '[]',
    parse: (raw: string) => raw,
  },
  websocketSessionCheck: {
    env: 'WEBSOCKET_SESSION_CHECK_MS',
    description:
      'Milliseconds between checks that the session of an open WebSocket still exists. A session ended on any instance closes its WebSockets as soon as the store announces it (Redis pub/sub, standalone or Sentinel), and at the next check in any case; at its absolute expiry at the latest.',
    default: '5000',
    parse: positiveInteger,
  },
  spaDir: { env: 'SPA_DIR', description: 'Folder of static files served at `/` (the SPA), if any.', optional: true, parse: existingFolder },
  touchInterval: {
    env: 'SESSION_TOUCH_INTERVAL',
    description:
      "Seconds: a session's sliding idle expiry is written to Redis at most this often (0: on every request), so a session may end up to this much before SESSION_IDLE_TIMEOUT after its last request. Default 1% of SESSION_IDLE_TIMEOUT, at most 60.",
    optional: true,
    parse: nonNegativeInteger,
  },
  sessionCache: {
    env: 'SESSION_CACHE',
    description:
      "`local`: a request may be answered from the instance's memory, kept current by Redis pub/sub (see SECURITY.md); off on a Redis Cluster (no invalidation feed there: every read goes to Redis). `verify`: every request reads the session from Redis.",
    default: 'local',
    parse: oneOf<SessionCacheMode>('local', 'verify'),
  },
  adminAudience: {
    env: 'ADMIN_JWT_AUDIENCE',
    description: 'Turns on the admin API (/admin): the `aud` its bearer tokens must carry.',
    optional: true,
    parse: nonEmpty,
  },
  adminAlgorithms: {
    env: 'ADMIN_JWT_ALGS',
    description: 'Comma-separated JWS algorithms accepted on admin tokens (asymmetric only: `none` and HS* are refused at start-up).',
    default: 'RS256',
    parse: asymmetricAlgorithms,
  },
  adminScope: {
    env: 'ADMIN_REQUIRED_SCOPE',
    description: 'The scope (in `scope` or `scp`) or role (in `roles`) an admin token must carry.',
    default: 'sessions:admin',
    parse: scopeToken,
  },
  trustProxy: {
    env: 'TRUST_PROXY',
    description:
      'Comma-separated addresses or CIDR ranges (or `loopback`, `linklocal`, `uniquelocal`) of reverse proxies whose `X-Forwarded-For` names the client. Empty: the client is the socket address, and `X-Forwarded-For` is ignored.',
    default: '',
    parse: trustedProxies,
  },
  loginRateLimit: {
    env: 'RATE_LIMIT_LOGIN',
    description:
      'Requests to /bff/login per client address (IPv6: per /64) per RATE_LIMIT_WINDOW, counted in Redis, so shared by all instances (429 `rate_limited` with Retry-After beyond; 0: no limit).',
    default: '30',
    parse: nonNegativeInteger,
  },
  callbackRateLimit: {
    env: 'RATE_LIMIT_CALLBACK',
    description:
      "Requests to /bff/callback per client address per RATE_LIMIT_WINDOW, counted apart from the login's (429 beyond; 0: no limit).",
    default: '30',
    parse: nonNegativeInteger,
  },
  rateLimitWindow: {
    env: 'RATE_LIMIT_WINDOW',
    description: 'Seconds of the fixed window the login and callback limits count in.',
    default: '60',
    parse: positiveInteger,
  },
  adminPort: {
    env: 'ADMIN_PORT',
    description:
      'Serve /admin (and its docs) on this port only (a second listener on HOST), not on PORT. Needs ADMIN_JWT_AUDIENCE; must differ from PORT.',
    optional: true,
    parse: port,
  },
  metricsEnabled: {
    env: 'METRICS_ENABLED',
    description: 'Serve Prometheus metrics at /metrics: on ADMIN_PORT when it is set, else on PORT.',
    default: 'true',
    parse: boolean,
  },
} satisfies Record<string, Setting<unknown>>;
