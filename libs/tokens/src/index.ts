export { AccessTokenService } from './access-token.service.js';
export { ClientTokenService } from './client-token.service.js';
export { TokenError, TokenErrorCode } from './tokens.errors.js';
export { TokensModule } from './tokens.module.js';
export { UserTokenAuthorizer } from './user-token.authorizer.js';
export { RefreshLock } from './refresh.lock.js';
export { SingleFlight } from './single-flight.js';
export { isUsable } from './token-freshness.js';
export type { ConnectedToken, ConnectedTokenSource } from './connected-token.source.js';
