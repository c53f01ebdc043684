import { Module } from '@nestjs/common';
import { HttpPolicyModule } from '#sessiongate/http';
import { SessionModule } from '#sessiongate/session';
import { TokensModule } from '#sessiongate/tokens';
import { ConnectController } from './connect.controller.js';
import { ConnectService } from './connect.service.js';
import { ConnectedAccountsModule } from './connected-accounts.module.js';
import { ConnectionTokenService } from './connection-token.service.js';
import { ConnectionsController } from './connections.controller.js';

/**
 * Connected accounts (CONNECTIONS) for browsers: /bff/connect/<name> and its callback, /bff/connections,
 * and the tokens `connected:<name>` routes relay (registered with TokensModule's UserTokenAuthorizer).
 * Needs the global GATEWAY_CONFIG and LOGGER.
 */
@Module({
  imports: [HttpPolicyModule, SessionModule, TokensModule, ConnectedAccountsModule],
  controllers: [ConnectController, ConnectionsController],
  providers: [ConnectService, ConnectionTokenService],
})
export class ConnectionsModule {}
