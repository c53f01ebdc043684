export { grantedToken, type IssuedTokens } from './issued-tokens.js';
export {
  clientAuthentication,
  OidcClient,
  type AuthorizationRequest,
  type ExpectedSubject,
  type ProviderStatus,
  type SubjectTokenType,
} from './oidc.client.js';
export { OidcError, OidcErrorCode } from './oidc.errors.js';
export { OidcModule } from './oidc.module.js';
export { ProviderKeys, ProviderKeysUnavailable } from './provider-keys.js';
export { ProviderReadyGuard } from './provider-ready.guard.js';
export { classifyIdpFailure, describeIdpFailure, isTransientDiscoveryFailure, type IdpFailure } from './idp-failure.js';
