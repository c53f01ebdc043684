import { Controller, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from './access-token.strategy.js';
import { ACR_SECOND_FACTOR } from './login.interaction.js';

/**
 * The demo's sensitive action: it needs a login with the second factor, which the API judges itself
 * from the access token's `acr`, asking for a step-up the way RFC 9470 §3 says when it is weaker.
 */
@Controller('sensitive')
export class SensitiveController {
  @Post()
  act(@Req() request: AuthenticatedRequest, @Res({ passthrough: true }) reply: FastifyReply): { done: true; sub: string; acr: string } {
    if (request.user.acr !== ACR_SECOND_FACTOR) {
      void reply.header(
        'www-authenticate',
        `Bearer error="insufficient_user_authentication", error_description="A login with the second factor is required", acr_values="${ACR_SECOND_FACTOR}"`,
      );
      throw new UnauthorizedException({
        error: 'insufficient_user_authentication',
        message: 'A login with the second factor is required.',
      });
    }
    return { done: true, sub: request.user.sub, acr: request.user.acr };
  }
}
