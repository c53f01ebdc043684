export { AccessTokenService, type TokenOptions } from './access-token.service.js';
export { ClientTokenService } from './client-token.service.js';
export { TokenError, TokenErrorCode } from './tokens.errors.js';
export { TokensModule } from './tokens.module.js';
export { UserTokenAuthorizer } from './user-token.authorizer.js';
export { DpopCredential } from './dpop.credential.js';
export { TokenExchangeService } from './token-exchange.service.js';
