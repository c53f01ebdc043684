import { Module } from '@nestjs/common';
import { OidcModule } from '#sessiongate/oidc';
import { SessionModule } from '#sessiongate/session';
import { AdminModule } from '../admin.module.js';
import { AdminConsoleApiController } from './admin-console-api.controller.js';
import { AdminConsoleController } from './admin-console.controller.js';
import { AdminConsoleCookies } from './admin-console.cookies.js';
import { AdminConsoleGuard } from './admin-console.guard.js';
import { AdminConsoleLoginService } from './admin-console-login.service.js';

/**
 * The admin console at /admin/console (ADMIN_CONSOLE_REQUIRE): a static page, its own login, and
 * JSON calls over the admin API's services. Wherever the admin API is served (ADMIN_PORT, or PORT).
 */
@Module({
  imports: [AdminModule, OidcModule, SessionModule],
  controllers: [AdminConsoleController, AdminConsoleApiController],
  providers: [AdminConsoleCookies, AdminConsoleGuard, AdminConsoleLoginService],
})
export class AdminConsoleModule {}
