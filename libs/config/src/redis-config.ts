import type { RedisConfig, RedisTopology } from './config.types.js';
import type { settings } from './settings.js';

type Settings = typeof settings;
type RedisKey =
  | 'redisUrl'
  | 'redisSentinels'
  | 'redisSentinelName'
  | 'redisSentinelPassword'
  | 'redisClusterNodes'
  | 'redisUsername'
  | 'redisPassword'
  | 'redisTls'
  | 'redisTlsCaFile';

/** The Redis settings (settings.ts), each parsed or undefined. */
export type RedisValues = { readonly [K in RedisKey]?: ReturnType<Settings[K]['parse']> | undefined };

export const REDIS_SETTING_KEYS: readonly RedisKey[] = [
  'redisUrl',
  'redisSentinels',
  'redisSentinelName',
  'redisSentinelPassword',
  'redisClusterNodes',
  'redisUsername',
  'redisPassword',
  'redisTls',
  'redisTlsCaFile',
];

const TOPOLOGIES = 'configure exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES';

/**
 * The one Redis topology the settings describe (undefined: none, the in-process store), pushing a
 * line naming the setting for every conflict: two topologies, options of another topology, TLS
 * options without TLS.
 */
export function redisConfig(v: RedisValues, problems: string[]): RedisConfig | undefined {
  // Set, even if malformed (already reported): what the other settings are checked against.
  const set = (name: string, value: unknown) => value !== undefined || problems.some((problem) => problem.startsWith(`${name}:`));
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
  if (given.length !== 1 || problems.some((problem) => problem.startsWith('REDIS_'))) return undefined;
  const topology: RedisTopology = standalone
    ? { kind: 'standalone', url: v.redisUrl! }
    : sentinel
      ? { kind: 'sentinel', sentinels: v.redisSentinels!, name: v.redisSentinelName ?? '', sentinelPassword: v.redisSentinelPassword }
      : { kind: 'cluster', nodes: v.redisClusterNodes! };
  return { topology, username: v.redisUsername, password: v.redisPassword, tls: tls ? { ca: v.redisTlsCaFile } : undefined };
}
