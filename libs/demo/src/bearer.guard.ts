import { type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessTokenClaims } from './access-token.strategy.js';
import { DEMO_API_OPTIONS, type DemoApiOptions } from './demo-api.options.js';

/** Every route needs a valid access token (401) that carries the required scope (403); RFC 6750 §3 challenges. */
@Injectable()
export class BearerGuard extends AuthGuard('access-token') {
  constructor(@Inject(DEMO_API_OPTIONS) private readonly options: DemoApiOptions) {
    super();
  }

  override handleRequest<TUser = AccessTokenClaims>(
    error: unknown,
    claims: AccessTokenClaims | false,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    const http = context.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    if (error || !claims) {
      const sentToken = http.getRequest<FastifyRequest>().headers.authorization !== undefined;
      void reply.header('www-authenticate', sentToken ? 'Bearer error="invalid_token"' : 'Bearer');
      throw new UnauthorizedException({ error: 'invalid_token', message: 'A valid bearer access token is required.' });
    }
    const { requiredScope } = this.options;
    if (!claims.scope.split(' ').includes(requiredScope)) {
      void reply.header('www-authenticate', `Bearer error="insufficient_scope", scope="${requiredScope}"`);
      throw new ForbiddenException({ error: 'insufficient_scope', message: `The access token lacks the ${requiredScope} scope.` });
    }
    return claims as TUser;
  }
}
