export { ConnectionsModule } from './connections.module.js';
export { ConnectedAccountsModule } from './connected-accounts.module.js';
export { ConnectedAccounts, type ConnectionView } from './connected-accounts.service.js';
export { ConnectionError, ConnectionErrorCode } from './connection.errors.js';
