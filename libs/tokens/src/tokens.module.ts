import { Module } from '@nestjs/common';
import { HttpPolicyModule } from '#sessiongate/http';
import { OidcModule } from '#sessiongate/oidc';
import { PolicyModule } from '#sessiongate/policy';
import { SessionModule } from '#sessiongate/session';
import { AccessTokenService } from './access-token.service.js';
import { ClientTokenService } from './client-token.service.js';
import { RefreshLock } from './refresh.lock.js';
import { TokenExchangeService } from './token-exchange.service.js';
import { UserTokenAuthorizer } from './user-token.authorizer.js';

@Module({
  imports: [HttpPolicyModule, OidcModule, PolicyModule, SessionModule],
  providers: [AccessTokenService, ClientTokenService, RefreshLock, TokenExchangeService, UserTokenAuthorizer],
  exports: [AccessTokenService, UserTokenAuthorizer, RefreshLock],
})
export class TokensModule {}
