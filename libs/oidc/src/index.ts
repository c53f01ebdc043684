export type { IssuedTokens } from './issued-tokens.js';
export { OidcClient, type AuthorizationRequest, type ExpectedSubject } from './oidc.client.js';
export { OidcError, OidcErrorCode } from './oidc.errors.js';
export { OidcModule } from './oidc.module.js';
export { ProviderKeys, ProviderKeysUnavailable } from './provider-keys.js';
