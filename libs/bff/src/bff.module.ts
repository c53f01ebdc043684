import { Module } from '@nestjs/common';
import { HttpPolicyModule } from '#sessiongate/http';
import { OidcModule } from '#sessiongate/oidc';
import { SessionModule } from '#sessiongate/session';
import { BackchannelLogoutController } from './backchannel-logout.controller.js';
import { LoginController } from './login.controller.js';
import { LoginService } from './login.service.js';
import { LogoutController } from './logout.controller.js';
import { LogoutTokenVerifier } from './logout-token.verifier.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { SessionsController } from './sessions.controller.js';
import { StepUpLogin } from './step-up-login.service.js';
import { UserController } from './user.controller.js';

/** The browser-facing /bff/* endpoints (login, callback, user, logout, the user's sessions), and the provider's back-channel logout. */
@Module({
  imports: [HttpPolicyModule, OidcModule, SessionModule],
  controllers: [LoginController, UserController, LogoutController, SessionsController, BackchannelLogoutController],
  providers: [LoginService, LogoutTokenVerifier, RateLimitGuard, StepUpLogin],
})
export class BffModule {}
