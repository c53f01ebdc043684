export { BearerCallerAuthorizer } from './bearer-caller.authorizer.js';
export { type BearerCaller, BearerTokenVerifier, bearerTokenOf } from './bearer-token.verifier.js';
export { type Claims, claimsFailure, hasConditions, scopeFailure, scopeWords } from './claims.policy.js';
export { PolicyError, PolicyErrorCode } from './policy.errors.js';
export { PolicyModule } from './policy.module.js';
export { assertMethodAllowed } from './route-method.policy.js';
export { assertClaims, assertScope } from './route.policy.js';
