export { ConfigError } from './config.error.js';
export { ConfigModule, GATEWAY_CONFIG } from './config.module.js';
export type { ApiRoute, ClientAuthMethod, ClientCredentials, GatewayConfig, ResourceParameter, RouteTokenMode, SameSite, TokenAudience } from './config.types.js';
export { isLoopback, loadConfig } from './load-config.js';
export { settings, type Setting } from './settings.js';
