export { ProxyError, ProxyErrorCode } from './proxy.errors.js';
export { ProxyModule, type ProxyModuleOptions } from './proxy.module.js';
export { type AuthorizeOptions, UPSTREAM_AUTHORIZER, type UpstreamAuthorizer } from './upstream-authorizer.js';
