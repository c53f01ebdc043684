import { Module } from '@nestjs/common';
import { HttpPolicyModule } from '#sessiongate/http';
import { SessionModule } from '#sessiongate/session';
import { TokensModule } from '#sessiongate/tokens';
import { ConnectController } from './connect.controller.js';
import { ConnectService } from './connect.service.js';
import { ConnectedAccounts } from './connected-accounts.service.js';
import { ConnectionDirectory } from './connection.directory.js';
import { ConnectionGrants } from './connection-grants.service.js';
import { ConnectionTokenService } from './connection-token.service.js';
import { ConnectionsController } from './connections.controller.js';

/**
 * Connected accounts (CONNECTIONS): /bff/connect/<name> and its callback, /bff/connections, the tokens
 * `connected:<name>` routes relay (registered with TokensModule's UserTokenAuthorizer), and the end of a
 * session's connections with it. Needs the global GATEWAY_CONFIG and LOGGER.
 */
@Module({
  imports: [HttpPolicyModule, SessionModule, TokensModule],
  controllers: [ConnectController, ConnectionsController],
  providers: [ConnectionDirectory, ConnectionGrants, ConnectService, ConnectedAccounts, ConnectionTokenService],
  exports: [ConnectedAccounts],
})
export class ConnectionsModule {}
