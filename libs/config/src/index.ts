export { ConfigError } from './config.error.js';
export { ConfigModule, GATEWAY_CONFIG } from './config.module.js';
export { CONFIG_REFERENCE_PATH, configurationReference } from './config-reference.js';
export type {
  AdminConfig,
  ApiRoute,
  ClientAuthMethod,
  ClientCredentials,
  DpopMode,
  ExchangeSubjectTokenType,
  ConnectionConfig,
  ConnectionPersistence,
  GatewayConfig,
  HostPort,
  RedisConfig,
  RedisTopology,
  ResourceParameter,
  RouteTokenMode,
  SameSite,
  SecurityProfile,
  SessionCacheMode,
  SessionKey,
  StoreConfig,
  TokenAudience,
  TraceSamplerName,
  TracingConfig,
} from './config.types.js';
export { isLoopback } from './config-rules.js';
export { connectionOf } from './api-routes.js';
export { HTTP_METHODS, routePolicy } from './route-policy.options.js';
export type { BearerCallers, ClaimCondition, ClaimValue, RoutePolicy } from './route-policy.types.js';
export { loadConfig, loadStoreConfig } from './load-config.js';
export { settings, type Setting } from './settings.js';
export { FAPI2_ALGORITHMS, routeUsesDpop } from './security-profile.policy.js';
