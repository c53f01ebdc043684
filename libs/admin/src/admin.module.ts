import { Module } from '@nestjs/common';
import { ConnectedAccountsModule } from '#sessiongate/connections';
import { OidcModule } from '#sessiongate/oidc';
import { SessionModule } from '#sessiongate/session';
import { AdminGuard } from './admin.guard.js';
import { AdminJwtStrategy } from './admin-jwt.strategy.js';
import { AdminSessionsController } from './admin-sessions.controller.js';
import { AdminSessionsService } from './admin-sessions.service.js';
import { SessionRevocation } from './session-revocation.service.js';

/**
 * The admin API under /admin: list and revoke sessions, with bearer tokens from the OIDC provider.
 * Needs the global GATEWAY_CONFIG (with `admin` set) and LOGGER. Its guard is on its controller only,
 * never global: the rest of the gateway is not an admin API.
 */
@Module({
  imports: [OidcModule, SessionModule, ConnectedAccountsModule],
  controllers: [AdminSessionsController],
  providers: [AdminJwtStrategy, AdminGuard, AdminSessionsService, SessionRevocation],
  // For the admin console, which calls the same services under its own credential (the console session).
  exports: [AdminSessionsService, SessionRevocation],
})
export class AdminModule {}
