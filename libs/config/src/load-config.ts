import { ConfigError } from './config.error.js';
import {
  checkRules,
  clientCredentials,
  configuredConnections,
  configuredRoutes,
  gatewayRules,
  indexKey,
  indexKeyNamed,
  isLoopback,
  type ParsedSettings,
} from './config-rules.js';
import type { ClientCredentials, GatewayConfig, StoreConfig } from './config.types.js';
import { noRedisTopology, REDIS_SETTING_KEYS, redisConfig, redisProblems } from './redis-config.js';
import { tracingConfig } from './tracing-config.js';
import { type Setting, type SettingKey, type SettingValues, settingGroup, settings } from './settings.js';

/**
 * The only reader of the environment. Parses every setting, checks the rules that tie them together,
 * and throws one ConfigError naming each bad variable; returns a deeply frozen configuration.
 */
export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  const problems: string[] = [];
  const { parsed, values } = parseSettings(env, Object.keys(settings) as SettingKey[], problems);
  checkRules(gatewayRules, parsed, problems);
  const credentials = clientCredentials(parsed);
  // Whatever is undefined here has been reported, by its setting or by a rule.
  if (problems.length > 0 || values === undefined || credentials === undefined) throw new ConfigError(problems);
  return deepFreeze(buildConfig(values, credentials));
}

/** GatewayConfig from settings that passed every rule: each group as the table declares it, plus the fields derived from several settings. */
function buildConfig(v: SettingValues, credentials: ClientCredentials): GatewayConfig {
  const https = v.publicUrl.protocol === 'https:';
  const cookieName = v.cookieName ?? (https ? '__Host-sessiongate' : 'sessiongate');
  const { audience, ...admin } = settingGroup(v, 'admin');
  return {
    production: v.nodeEnv === 'production',
    ...settingGroup(v, 'gateway'),
    oidc: {
      ...settingGroup(v, 'oidc'),
      credentials,
      allowInsecureHttp: v.allowInsecureHttp || isLoopback(v.issuer),
      redirectUri: new URL('/bff/callback', v.publicUrl),
      postLogoutRedirectUri: new URL(v.postLogoutRedirectPath, v.publicUrl),
    },
    redis: redisConfig(v),
    session: {
      ...settingGroup(v, 'session'),
      indexKey: indexKey(v),
      cookieName,
      loginCookieName: `${cookieName}-login`,
      secureCookies: https,
      // 1% of the idle timeout by default: a session may end that much early, in exchange for not
      // writing to Redis on every request.
      touchIntervalMs: v.touchInterval !== undefined ? v.touchInterval * 1000 : Math.min(60_000, v.idleTimeoutSeconds * 10),
    },
    tokens: settingGroup(v, 'tokens'),
    proxy: settingGroup(v, 'proxy'),
    // Read a second time: its rule has checked it, so this cannot throw.
    routes: configuredRoutes(v),
    connections: configuredConnections(v),
    rateLimit: settingGroup(v, 'rateLimit'),
    admin: audience === undefined ? undefined : { ...admin, audience },
    metrics: settingGroup(v, 'metrics'),
    tracing: tracingConfig(v),
  };
}

/**
 * For tools that open the session store directly (the break-glass CLI): only the Redis settings (a
 * topology is required here), SESSION_ENCRYPTION_KEY and SESSION_INDEX_KEY, parsed exactly as
 * loadConfig parses them.
 */
export function loadStoreConfig(env: Record<string, string | undefined>): StoreConfig {
  const problems: string[] = [];
  const { parsed, values } = parseSettings(env, [...REDIS_SETTING_KEYS, 'encryptionKeys', 'indexKey'], problems);
  problems.push(...redisProblems(parsed, problems));
  if (noRedisTopology(parsed, problems)) {
    problems.unshift(`REDIS_URL: is required, or REDIS_SENTINELS or REDIS_CLUSTER_NODES (${settings.redisUrl.description})`);
  }
  checkRules([indexKeyNamed], parsed, problems);
  const redis = values && redisConfig(values);
  if (problems.length > 0 || values === undefined || redis === undefined) throw new ConfigError(problems);
  return { redis, encryptionKeys: values.encryptionKeys, indexKey: indexKey(values) };
}

/**
 * Parses the settings named by `keys`, pushing one line per missing or malformed one. `parsed` holds
 * those that parsed; `values` all of them, or undefined when any was reported.
 */
function parseSettings<K extends SettingKey>(
  env: Record<string, string | undefined>,
  keys: readonly K[],
  problems: string[],
): { parsed: ParsedSettings & Partial<Pick<SettingValues, K>>; values: Pick<SettingValues, K> | undefined } {
  const parsed: Partial<Record<K, unknown>> = {};
  let complete = true;
  for (const key of keys) {
    const setting: Setting<unknown> = settings[key];
    const raw = env[setting.env] === '' ? undefined : env[setting.env];
    const input = raw ?? setting.default;
    if (input === undefined) {
      if (!setting.optional) problems.push(`${setting.env}: is required (${setting.description})`);
      complete &&= setting.optional === true;
      continue;
    }
    try {
      parsed[key] = setting.parse(input);
    } catch (error) {
      problems.push(`${setting.env}: ${(error as Error).message}`);
      complete = false;
    }
  }
  // Each key holds what its own parser returned, or is unset and optional: what SettingValues describes.
  const values = parsed as Pick<SettingValues, K>;
  return { parsed: values, values: complete ? values : undefined };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof URL) && !Buffer.isBuffer(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
