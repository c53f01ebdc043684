import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { OidcError, ProviderKeysUnavailable } from '#sessiongate/oidc';
import { AdminError, AdminErrorCode } from './admin.errors.js';
import { type AdminPrincipal, AdminJwtStrategy } from './admin-jwt.strategy.js';

/**
 * Every admin route: a valid bearer token (401 otherwise) carrying ADMIN_REQUIRED_SCOPE (403),
 * with RFC 6750 §3 challenges. The provider's keys being unreachable is a 503, not the token's fault.
 */
@Injectable()
export class AdminGuard extends AuthGuard() {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    strategy: AdminJwtStrategy,
  ) {
    // This application's own strategy (see AdminJwtStrategy.registeredName), not a process-wide name.
    super({ defaultStrategy: strategy.registeredName, session: false });
  }

  override handleRequest<TUser = AdminPrincipal>(
    error: unknown,
    principal: AdminPrincipal | false,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    const failure = error ?? info;
    if (failure instanceof ProviderKeysUnavailable) {
      throw OidcError.idpUnavailable(failure.message);
    }
    if (error || !principal) {
      const sentToken = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization !== undefined;
      throw new AdminError(AdminErrorCode.InvalidToken, {
        detail: failure instanceof Error ? `${failure.name}: ${failure.message}` : 'token rejected',
        headers: { 'www-authenticate': sentToken ? 'Bearer error="invalid_token"' : 'Bearer' },
      });
    }
    const { requiredScope } = this.config.admin!;
    if (!principal.grants.has(requiredScope)) {
      throw new AdminError(AdminErrorCode.InsufficientScope, {
        detail: `${principal.subject} lacks ${requiredScope}`,
        headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${requiredScope}"` },
      });
    }
    return principal as TUser;
  }
}
