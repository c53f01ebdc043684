export { ProxyError, ProxyErrorCode } from './proxy.errors.js';
export { ProxyModule, type ProxyModuleOptions } from './proxy.module.js';
export { BearerCredential } from './bearer.credential.js';
export type { CredentialScheme, UpstreamAttempt, UpstreamCredential } from './upstream-credential.js';
export {
  type AuthorizedRequest,
  type AuthorizeOptions,
  type SessionLease,
  UPSTREAM_AUTHORIZER,
  type UpgradeGrant,
  type UpgradeRequest,
  type UpstreamAuthorizer,
} from './upstream-authorizer.js';
export { WebSocketProxy } from './websocket.proxy.js';
export { assertHandshakeAllowed } from './handshake.check.js';
export { setCredentialHeaders, type ForwardedHeaders } from './proxy-headers.js';
export { resolveUpstream, type UpstreamTarget } from './upstream-path.js';
