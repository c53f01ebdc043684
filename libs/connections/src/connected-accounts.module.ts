import { Module } from '@nestjs/common';
import { SessionModule } from '#sessiongate/session';
import { ConnectedAccounts } from './connected-accounts.service.js';
import { ConnectionDirectory } from './connection.directory.js';
import { ConnectionGrants } from './connection-grants.service.js';

/**
 * The configured connections, where their tokens live, and their lifetime (listing, disconnecting, ending
 * with their session), without any endpoint: what the admin API needs, also on its own port.
 */
@Module({
  imports: [SessionModule],
  providers: [ConnectionDirectory, ConnectionGrants, ConnectedAccounts],
  exports: [ConnectionDirectory, ConnectionGrants, ConnectedAccounts],
})
export class ConnectedAccountsModule {}
