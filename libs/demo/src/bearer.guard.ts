import { type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessTokenClaims, AuthenticatedRequest } from './access-token.strategy.js';
import { DEMO_API_OPTIONS, type DemoApiOptions } from './demo-api.options.js';
import { DpopProofVerifier } from './dpop-proof.verifier.js';

/**
 * Every route needs a valid access token (401) that carries the required scope (403); RFC 6750 §3
 * challenges. A DPoP-bound token (`cnf.jkt`) is only accepted as `Authorization: DPoP` with a valid
 * proof (RFC 9449 §7); a refused proof is a `DPoP` challenge, with DPoP-Nonce when a nonce is wanted.
 */
@Injectable()
export class BearerGuard extends AuthGuard('access-token') {
  private readonly proofs: DpopProofVerifier;

  constructor(@Inject(DEMO_API_OPTIONS) private readonly options: DemoApiOptions) {
    super();
    this.proofs = new DpopProofVerifier(options.dpop?.requireNonce ?? false);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!(await super.canActivate(context))) return false;
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const [scheme = '', token = ''] = (request.headers.authorization ?? '').split(' ');
    const boundKey = request.user.cnf?.jkt;
    if (scheme.toLowerCase() !== 'dpop' && boundKey === undefined) return true;
    const reply = http.getResponse<FastifyReply>();
    if (scheme.toLowerCase() !== 'dpop') {
      void reply.header('www-authenticate', 'DPoP error="invalid_token", error_description="the token is DPoP-bound"');
      throw new UnauthorizedException({ error: 'invalid_token', message: 'A DPoP-bound token must be sent as DPoP.' });
    }
    const refusal = await this.proofs.verify(
      { method: request.method, url: request.url, host: request.headers.host, proof: request.headers.dpop, accessToken: token },
      boundKey,
    );
    if (refusal === undefined) return true;
    if (refusal.error === 'use_dpop_nonce') void reply.header('dpop-nonce', this.proofs.nonce);
    void reply.header('www-authenticate', `DPoP error="${refusal.error}", error_description="${refusal.description}"`);
    throw new UnauthorizedException({ error: refusal.error, message: refusal.description });
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
