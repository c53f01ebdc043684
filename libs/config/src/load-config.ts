import { ConfigError } from './config.error.js';
import type { ApiRoute, GatewayConfig, SessionKey, StoreConfig } from './config.types.js';
import { REDIS_SETTING_KEYS, redisConfig } from './redis-config.js';
import { apiRoutes } from './api-routes.js';
import { type Setting, settings } from './settings.js';

type Settings = typeof settings;
type Values = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> | undefined };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * The only reader of the environment. Parses every setting, collects every problem, and throws one
 * ConfigError naming each bad variable; returns a deeply frozen configuration.
 */
export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  const problems: string[] = [];
  const v = parseSettings(env, Object.keys(settings) as (keyof Settings)[], problems);
  const production = v.nodeEnv === 'production';
  const https = v.publicUrl?.protocol === 'https:';

  if (v.issuer?.protocol === 'http:' && !isLoopback(v.issuer) && !v.allowInsecureHttp) {
    problems.push(
      'OIDC_ISSUER: http:// is only accepted on a loopback host; use https:// (or set OIDC_ALLOW_INSECURE_HTTP=true for a test setup)',
    );
  }
  if (production && v.allowInsecureHttp) problems.push('OIDC_ALLOW_INSECURE_HTTP: must not be true when NODE_ENV=production');
  const redis = redisConfig(v, problems);
  if (production && redis === undefined && problems.every((problem) => !problem.startsWith('REDIS_'))) {
    problems.push(
      'REDIS_URL: is required when NODE_ENV=production, or REDIS_SENTINELS or REDIS_CLUSTER_NODES (the in-process store is for development only)',
    );
  }
  // Browsers drop a prefixed cookie without Secure; Path=/ and no Domain (__Host-) are how every cookie is written.
  const prefix = ['__Host-', '__Secure-', '__Http-'].find((candidate) => v.cookieName?.startsWith(candidate));
  if (prefix && !https) problems.push(`SESSION_COOKIE_NAME: a ${prefix} cookie needs an https:// PUBLIC_URL`);
  let routes: ApiRoute[] = [];
  if (v.apiRoutes !== undefined && v.upstreamTimeout !== undefined && v.upstreamIdleTimeout !== undefined && v.maxBodyBytes !== undefined) {
    try {
      routes = apiRoutes(v.apiRoutes, { maxBodyBytes: v.maxBodyBytes, timeoutMs: v.upstreamTimeout, idleTimeoutMs: v.upstreamIdleTimeout });
    } catch (error) {
      problems.push(`API_ROUTES: ${(error as Error).message}`);
    }
  }
  if (
    v.clientAuthMethod === 'private_key_jwt'
      ? v.clientPrivateKey === undefined
      : v.clientAuthMethod !== undefined && v.clientSecret === undefined
  ) {
    problems.push(
      v.clientAuthMethod === 'private_key_jwt'
        ? 'OIDC_CLIENT_PRIVATE_KEY: is required when OIDC_CLIENT_AUTH_METHOD=private_key_jwt'
        : `OIDC_CLIENT_SECRET: is required (${settings.clientSecret.description})`,
    );
  }
  const indexKey = v.encryptionKeys && chooseIndexKey(v.encryptionKeys, v.indexKey, problems);
  if (v.adminPort !== undefined && v.adminAudience === undefined)
    problems.push('ADMIN_PORT: needs ADMIN_JWT_AUDIENCE (the admin API is off without it)');
  if (v.adminPort !== undefined && v.adminPort === v.port) problems.push('ADMIN_PORT: must differ from PORT');
  if (problems.length > 0) throw new ConfigError(problems);

  const publicUrl = v.publicUrl!;
  const cookieName = v.cookieName ?? (https ? '__Host-sessiongate' : 'sessiongate');
  const config: GatewayConfig = {
    production,
    publicUrl,
    corsAllowedOrigins: v.corsAllowedOrigins!,
    host: v.host!,
    port: v.port!,
    logLevel: v.logLevel!,
    shutdownTimeoutMs: v.shutdownTimeout!,
    oidc: {
      issuer: v.issuer!,
      clientId: v.clientId!,
      credentials:
        v.clientAuthMethod === 'private_key_jwt'
          ? { method: v.clientAuthMethod, privateKey: v.clientPrivateKey! }
          : { method: v.clientAuthMethod!, secret: v.clientSecret! },
      usePar: v.usePar!,
      maxAgeSeconds: v.maxAge,
      scopes: v.scopes!,
      idTokenSigningAlg: v.idTokenSigningAlg!,
      allowInsecureHttp: v.allowInsecureHttp! || isLoopback(v.issuer!),
      redirectUri: new URL('/bff/callback', publicUrl),
      postLogoutRedirectUri: new URL(v.postLogoutRedirectPath!, publicUrl),
    },
    redis,
    session: {
      encryptionKeys: v.encryptionKeys!,
      indexKey: indexKey!,
      idleTimeoutSeconds: v.idleTimeout!,
      absoluteTimeoutSeconds: v.absoluteTimeout!,
      cookieName,
      loginCookieName: `${cookieName}-login`,
      sameSite: v.sameSite!,
      secureCookies: https,
      loginTimeoutSeconds: v.loginTimeout!,
      // 1% of the idle timeout by default: a session may end that much early, in exchange for not
      // writing to Redis on every request.
      touchIntervalMs: v.touchInterval !== undefined ? v.touchInterval * 1000 : Math.min(60_000, v.idleTimeout! * 10),
      cache: v.sessionCache!,
    },
    tokens: {
      refreshSkewSeconds: v.refreshSkew!,
      resourceParameter: v.resourceParameter!,
      refreshLockLeaseMs: v.refreshLockLease!,
      refreshWaitMs: v.refreshWait!,
    },
    proxy: { connectTimeoutMs: v.connectTimeout!, websocketSessionCheckMs: v.websocketSessionCheck! },
    routes,
    spaDir: v.spaDir,
    trustProxy: v.trustProxy!,
    rateLimit: { login: v.loginRateLimit!, callback: v.callbackRateLimit!, windowMs: v.rateLimitWindow! * 1000 },
    admin:
      v.adminAudience === undefined
        ? undefined
        : { audience: v.adminAudience, algorithms: v.adminAlgorithms!, requiredScope: v.adminScope!, port: v.adminPort },
    metrics: { enabled: v.metricsEnabled! },
  };
  return deepFreeze(config);
}

/**
 * For tools that open the session store directly (the break-glass CLI): only the Redis settings (a
 * topology is required here), SESSION_ENCRYPTION_KEY and SESSION_INDEX_KEY, parsed exactly as
 * loadConfig parses them.
 */
export function loadStoreConfig(env: Record<string, string | undefined>): StoreConfig {
  const problems: string[] = [];
  const v = parseSettings(env, [...REDIS_SETTING_KEYS, 'encryptionKeys', 'indexKey'], problems);
  const redis = redisConfig(v, problems);
  if (redis === undefined && problems.every((problem) => !problem.startsWith('REDIS_'))) {
    problems.unshift(`REDIS_URL: is required, or REDIS_SENTINELS or REDIS_CLUSTER_NODES (${settings.redisUrl.description})`);
  }
  const indexKey = v.encryptionKeys && chooseIndexKey(v.encryptionKeys, v.indexKey, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { redis: redis!, encryptionKeys: v.encryptionKeys!, indexKey: indexKey! };
}

/** Parses the settings named by `keys`, pushing one line per missing or malformed one. */
function parseSettings(env: Record<string, string | undefined>, keys: readonly (keyof Settings)[], problems: string[]): Values {
  const values = {} as Record<string, unknown>;
  for (const key of keys) {
    const setting = settings[key] as Setting<unknown>;
    const raw = env[setting.env] === '' ? undefined : env[setting.env];
    const input = raw ?? setting.default;
    if (input === undefined) {
      if (!setting.optional) problems.push(`${setting.env}: is required (${setting.description})`);
      continue;
    }
    try {
      values[key] = setting.parse(input);
    } catch (error) {
      problems.push(`${setting.env}: ${(error as Error).message}`);
    }
  }
  return values as Values;
}

/**
 * The index names must outlive every encryption key: rotating SESSION_ENCRYPTION_KEY must not rename
 * the Redis keys of live sessions (their indexes would be orphaned, and revocation by user or
 * provider session would miss them). A single key doubles as the index key, as it always has; once
 * several are listed, which one that was can no longer be guessed, so it must be named.
 */
function chooseIndexKey(keys: readonly SessionKey[], indexKey: Buffer | undefined, problems: string[]): Buffer | undefined {
  if (indexKey !== undefined) return indexKey;
  if (keys.length === 1) return keys[0]!.key;
  problems.push(
    `${settings.indexKey.env}: is required when SESSION_ENCRYPTION_KEY lists several keys: set it to the key sessions were first indexed under (the previous SESSION_ENCRYPTION_KEY) and keep it`,
  );
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof URL) && !Buffer.isBuffer(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
