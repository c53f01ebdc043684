import type { RedisConfig, RedisTopology } from './config.types.js';
import type { SettingKey, SettingValues } from './settings.js';

export const REDIS_SETTING_KEYS = [
  'redisUrl',
  'redisSentinels',
  'redisSentinelName',
  'redisSentinelPassword',
  'redisClusterNodes',
  'redisUsername',
  'redisPassword',
  'redisTls',
  'redisTlsCaFile',
] as const satisfies readonly SettingKey[];

/** The Redis settings (settings.ts), each parsed or undefined. */
export type RedisValues = { readonly [K in (typeof REDIS_SETTING_KEYS)[number]]?: SettingValues[K] };

const TOPOLOGIES = 'configure exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES';

/**
 * A line naming the setting for every conflict between the Redis settings: two topologies, options of
 * another topology, TLS options without TLS. `found`: the problems found so far.
 */
export function redisProblems(v: RedisValues, found: readonly string[]): string[] {
  const problems: string[] = [];
  // Set, even if malformed (already reported): what the other settings are checked against.
  const set = (name: string, value: unknown) => value !== undefined || found.some((problem) => problem.startsWith(`${name}:`));
  const given = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((name, position) =>
    set(name, [v.redisUrl, v.redisSentinels, v.redisClusterNodes][position]),
  );
  for (const name of given.slice(1)) problems.push(`${name}: cannot be combined with ${given[0]} (${TOPOLOGIES})`);
  const standalone = given[0] === 'REDIS_URL';
  const sentinel = given[0] === 'REDIS_SENTINELS';
  if (sentinel && v.redisSentinelName === undefined)
    problems.push('REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master group name the sentinels monitor)');
  for (const [name, value] of [
    ['REDIS_SENTINEL_NAME', v.redisSentinelName],
    ['REDIS_SENTINEL_PASSWORD', v.redisSentinelPassword],
  ] as const) {
    if (value !== undefined && !sentinel) problems.push(`${name}: only applies with REDIS_SENTINELS`);
  }
  for (const [name, value] of [
    ['REDIS_USERNAME', v.redisUsername],
    ['REDIS_PASSWORD', v.redisPassword],
    ['REDIS_TLS', v.redisTls],
  ] as const) {
    if (value === undefined) continue;
    if (standalone) problems.push(`${name}: with REDIS_URL, give it in the URL (rediss://user:password@host:port)`);
    else if (given.length === 0) problems.push(`${name}: only applies with REDIS_SENTINELS or REDIS_CLUSTER_NODES`);
  }
  if (v.redisUsername !== undefined && v.redisPassword === undefined) problems.push('REDIS_USERNAME: needs REDIS_PASSWORD');
  const tls = standalone ? v.redisUrl?.startsWith('rediss:') : v.redisTls === true;
  if (v.redisTlsCaFile !== undefined && tls === false)
    problems.push('REDIS_TLS_CA_FILE: needs TLS (a rediss:// REDIS_URL, or REDIS_TLS=true)');
  return problems;
}

/** No topology given, and none of the Redis settings refused: the in-process store. */
export function noRedisTopology(v: RedisValues, found: readonly string[]): boolean {
  return redisTopology(v) === undefined && found.every((problem) => !problem.startsWith('REDIS_'));
}

/** The one Redis topology settings that passed redisProblems describe (undefined: none, the in-process store). */
export function redisConfig(v: RedisValues): RedisConfig | undefined {
  const topology = redisTopology(v);
  if (topology === undefined) return undefined;
  const tls = topology.kind === 'standalone' ? topology.url.startsWith('rediss:') : v.redisTls === true;
  return { topology, username: v.redisUsername, password: v.redisPassword, tls: tls ? { ca: v.redisTlsCaFile } : undefined };
}

function redisTopology(v: RedisValues): RedisTopology | undefined {
  if (v.redisUrl !== undefined) return { kind: 'standalone', url: v.redisUrl };
  if (v.redisSentinels !== undefined)
    return { kind: 'sentinel', sentinels: v.redisSentinels, name: v.redisSentinelName ?? '', sentinelPassword: v.redisSentinelPassword };
  if (v.redisClusterNodes !== undefined) return { kind: 'cluster', nodes: v.redisClusterNodes };
  return undefined;
}
