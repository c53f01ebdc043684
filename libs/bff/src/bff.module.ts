import { Module } from '@nestjs/common';
import { OidcModule } from '#sessiongate/oidc';
import { SessionModule } from '#sessiongate/session';
import { LoginController } from './login.controller.js';
import { LoginService } from './login.service.js';
import { LogoutController } from './logout.controller.js';
import { UserController } from './user.controller.js';

/** The browser-facing /bff/* endpoints: login, callback, user, logout. */
@Module({
  imports: [OidcModule, SessionModule],
  controllers: [LoginController, UserController, LogoutController],
  providers: [LoginService],
})
export class BffModule {}
