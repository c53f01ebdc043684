import { apiRoutes, connectionOf } from './api-routes.js';
import type { ApiRoute, ClientCredentials, ConnectionConfig } from './config.types.js';
import { connections, connectionUrls } from './connections.options.js';
import { noRedisTopology, redisProblems } from './redis-config.js';
import { dpopRouteProblems, fapi2Rules } from './security-profile.policy.js';
import { samplerArgProblem } from './tracing-config.js';
import { type SettingValues, settings } from './settings.js';

/** What rules see: every setting that parsed. A missing or malformed one is undefined here (and already reported). */
export type ParsedSettings = Partial<SettingValues>;

/**
 * A rule tying settings together: what it finds wrong (one line each, naming the variable), given the
 * settings that parsed and the problems found before it. Rules return rather than throw, so that every
 * problem is reported at once.
 */
export type Rule = (v: ParsedSettings, found: readonly string[]) => string | readonly string[] | undefined;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

const production = (v: ParsedSettings) => v.nodeEnv === 'production';

/** How the gateway authenticates at the token endpoint; undefined while the method's secret or key is missing. */
export function clientCredentials(v: ParsedSettings): ClientCredentials | undefined {
  if (v.clientAuthMethod === 'private_key_jwt') return v.clientPrivateKey && { method: v.clientAuthMethod, privateKey: v.clientPrivateKey };
  return v.clientAuthMethod && v.clientSecret !== undefined ? { method: v.clientAuthMethod, secret: v.clientSecret } : undefined;
}

/** API_ROUTES, a route's limits defaulting to the global settings; throws at the first bad route. */
export function configuredRoutes(
  v: Pick<SettingValues, 'apiRoutes' | 'maxBodyBytes' | 'upstreamTimeout' | 'upstreamIdleTimeout' | 'routesDefaultRequire'>,
): ApiRoute[] {
  return apiRoutes(
    v.apiRoutes,
    { maxBodyBytes: v.maxBodyBytes, timeoutMs: v.upstreamTimeout, idleTimeoutMs: v.upstreamIdleTimeout },
    v.routesDefaultRequire,
  );
}

/** CONNECTIONS, each callback under PUBLIC_URL; throws at the first bad entry. */
export function configuredConnections(v: Pick<SettingValues, 'connections' | 'publicUrl'>): ConnectionConfig[] {
  return connections(v.connections, v.publicUrl);
}

/**
 * CONNECTIONS read, its URLs held to the same plain-http rule as OIDC_ISSUER, and every
 * `connected:<name>` route naming one of them. The secrets in it are never echoed.
 */
const connectionsRule: Rule = (v) => {
  if (v.connections === undefined || v.publicUrl === undefined) return undefined;
  let listed: ConnectionConfig[];
  try {
    listed = configuredConnections({ connections: v.connections, publicUrl: v.publicUrl });
  } catch (error) {
    return `CONNECTIONS: ${(error as Error).message}`;
  }
  const problems: string[] = [];
  for (const connection of listed) {
    const insecure = connectionUrls(connection).find((url) => url.protocol === 'http:' && !isLoopback(url));
    if (insecure && !v.allowInsecureHttp)
      problems.push(
        `CONNECTIONS: connection ${connection.name}: http:// is only accepted on a loopback host (${insecure.origin}); use https://`,
      );
  }
  if (v.apiRoutes !== undefined && v.maxBodyBytes !== undefined && v.upstreamTimeout !== undefined && v.upstreamIdleTimeout !== undefined) {
    let routes: ApiRoute[] = [];
    try {
      routes = configuredRoutes({
        ...v,
        apiRoutes: v.apiRoutes,
        maxBodyBytes: v.maxBodyBytes,
        upstreamTimeout: v.upstreamTimeout,
        upstreamIdleTimeout: v.upstreamIdleTimeout,
        routesDefaultRequire: v.routesDefaultRequire,
      });
    } catch {
      // Reported by the API_ROUTES rule.
    }
    for (const route of routes) {
      const name = connectionOf(route.token);
      if (name !== undefined && !listed.some((connection) => connection.name === name))
        problems.push(`API_ROUTES: route ${route.prefix}: token connected:${name} names no connection of CONNECTIONS`);
      // The caller's own token is no token of the third party's: a connected route relays the connection's only.
      if (name !== undefined && route.bearer !== undefined)
        problems.push(`API_ROUTES: route ${route.prefix}: a connected:${name} route takes no bearer callers`);
    }
  }
  return problems;
};

/**
 * The index names must outlive every encryption key: rotating SESSION_ENCRYPTION_KEY must not rename
 * the Redis keys of live sessions (their indexes would be orphaned, and revocation by user or
 * provider session would miss them). A single key doubles as the index key, as it always has; once
 * several are listed, which one that was can no longer be guessed, so it must be named (indexKeyNamed).
 */
export function indexKey(v: Pick<SettingValues, 'encryptionKeys' | 'indexKey'>): Buffer {
  return v.indexKey ?? v.encryptionKeys[0].key;
}

export const indexKeyNamed: Rule = (v) =>
  v.encryptionKeys !== undefined && v.encryptionKeys.length > 1 && v.indexKey === undefined
    ? `${settings.indexKey.env}: is required when SESSION_ENCRYPTION_KEY lists several keys: set it to the key sessions were first indexed under (the previous SESSION_ENCRYPTION_KEY) and keep it`
    : undefined;

/** The gateway's rules, in the order their problems are listed (after those of the single settings). */
export const gatewayRules: readonly Rule[] = [
  (v) =>
    v.issuer?.protocol === 'http:' && !isLoopback(v.issuer) && !v.allowInsecureHttp
      ? 'OIDC_ISSUER: http:// is only accepted on a loopback host; use https:// (or set OIDC_ALLOW_INSECURE_HTTP=true for a test setup)'
      : undefined,
  (v) => (production(v) && v.allowInsecureHttp ? 'OIDC_ALLOW_INSECURE_HTTP: must not be true when NODE_ENV=production' : undefined),
  redisProblems,
  (v, found) =>
    production(v) && noRedisTopology(v, found)
      ? 'REDIS_URL: is required when NODE_ENV=production, or REDIS_SENTINELS or REDIS_CLUSTER_NODES (the in-process store is for development only)'
      : undefined,
  (v, found) =>
    v.workers !== undefined && v.workers > 1 && noRedisTopology(v, found)
      ? `GATEWAY_WORKERS: ${v.workers} workers need REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (with the in-process store each worker would have sessions of its own)`
      : undefined,
  (v) => {
    // Browsers drop a prefixed cookie without Secure; Path=/ and no Domain (__Host-) are how every cookie is written.
    const prefix = ['__Host-', '__Secure-', '__Http-'].find((candidate) => v.cookieName?.startsWith(candidate));
    return prefix && v.publicUrl?.protocol !== 'https:'
      ? `SESSION_COOKIE_NAME: a ${prefix} cookie needs an https:// PUBLIC_URL`
      : undefined;
  },
  (v) => {
    const { apiRoutes, maxBodyBytes, upstreamTimeout, upstreamIdleTimeout, routesDefaultRequire, clientId } = v;
    // Unread while a limit it defaults to is malformed (that one is reported).
    if (apiRoutes === undefined || maxBodyBytes === undefined || upstreamTimeout === undefined || upstreamIdleTimeout === undefined)
      return undefined;
    let routes: ApiRoute[];
    try {
      routes = configuredRoutes({ apiRoutes, maxBodyBytes, upstreamTimeout, upstreamIdleTimeout, routesDefaultRequire });
    } catch (error) {
      return `API_ROUTES: ${(error as Error).message}`;
    }
    // ID tokens and logout tokens are addressed to the gateway: accepted as bearers, any of them would open the route.
    const index = routes.findIndex((route) => route.bearer !== undefined && route.bearer.audience === clientId);
    const problems = dpopRouteProblems(v, routes);
    if (index >= 0) {
      problems.unshift(
        `API_ROUTES: route ${index} (${routes[index]?.prefix}): bearer.audience must not be OIDC_CLIENT_ID (the audience of the gateway's own ID and logout tokens)`,
      );
    }
    return problems;
  },
  (v) => {
    if (v.clientAuthMethod === undefined || clientCredentials(v) !== undefined) return undefined;
    return v.clientAuthMethod === 'private_key_jwt'
      ? 'OIDC_CLIENT_PRIVATE_KEY: is required when OIDC_CLIENT_AUTH_METHOD=private_key_jwt'
      : `OIDC_CLIENT_SECRET: is required (${settings.clientSecret.description})`;
  },
  indexKeyNamed,
  connectionsRule,
  (v) =>
    v.adminPort !== undefined && v.adminAudience === undefined
      ? 'ADMIN_PORT: needs ADMIN_JWT_AUDIENCE (the admin API is off without it)'
      : undefined,
  (v) => (v.adminPort !== undefined && v.adminPort === v.port ? 'ADMIN_PORT: must differ from PORT' : undefined),
  (v) =>
    v.adminConsoleRequire !== undefined && v.adminAudience === undefined
      ? 'ADMIN_CONSOLE_REQUIRE: needs ADMIN_JWT_AUDIENCE (the console is part of the admin API, off without it)'
      : undefined,
  (v) =>
    v.adminConsoleRequire !== undefined && v.adminPort !== undefined && v.adminConsoleUrl === undefined
      ? 'ADMIN_CONSOLE_URL: is required with ADMIN_PORT and ADMIN_CONSOLE_REQUIRE (the origin operators reach the admin port at)'
      : undefined,
  (v) =>
    v.adminConsoleUrl !== undefined && v.adminConsoleRequire === undefined
      ? 'ADMIN_CONSOLE_URL: means nothing without ADMIN_CONSOLE_REQUIRE (the console is off)'
      : undefined,
  samplerArgProblem,
  (v) =>
    v.forwardAuthPath !== undefined && v.trustProxy !== undefined && v.trustProxy.length === 0
      ? 'FORWARD_AUTH_PATH: needs TRUST_PROXY, the addresses of the ingress it answers (it answers no one else)'
      : undefined,
  ...fapi2Rules,
];

/** Appends what each rule finds, in order. */
export function checkRules(rules: readonly Rule[], v: ParsedSettings, problems: string[]): void {
  for (const rule of rules) {
    const found = rule(v, problems);
    if (found !== undefined) problems.push(...(typeof found === 'string' ? [found] : found));
  }
}
