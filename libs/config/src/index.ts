export { ConfigError } from './config.error.js';
export { ConfigModule, GATEWAY_CONFIG } from './config.module.js';
export { CONFIG_REFERENCE_PATH, configurationReference } from './config-reference.js';
export type {
  AdminConfig,
  ApiRoute,
  ClientAuthMethod,
  ClientCredentials,
  GatewayConfig,
  HostPort,
  RedisConfig,
  RedisTopology,
  ResourceParameter,
  RouteTokenMode,
  SameSite,
  SessionCacheMode,
  SessionKey,
  StoreConfig,
  TokenAudience,
} from './config.types.js';
export type { ConsoleClaimCondition, ConsoleRequirement } from './console-require.options.js';
export { isLoopback } from './config-rules.js';
export { loadConfig, loadStoreConfig } from './load-config.js';
export { settings, type Setting } from './settings.js';
