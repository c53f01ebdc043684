import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ReportOutcome } from '#sessiongate/observability';
import { OidcClient } from '#sessiongate/oidc';
import { LogoutTokenReplayGuard, type RevokedSession, SessionAudit, SessionDirectory } from '#sessiongate/session';
import { BffError, BffErrorCode } from './bff.errors.js';
import { LogoutTokenVerifier } from './logout-token.verifier.js';

/**
 * OIDC Back-Channel Logout 1.0: the provider POSTs a logout token when a user logs out there, and
 * the matching sessions end at once on every instance. No cookie and no CSRF header: the token is
 * the authentication (the cross-origin check exempts this path). Always `Cache-Control: no-store`
 * (every /bff response has it); 200 with no body, also when no session matched (§2.8).
 */
@Controller('bff')
export class BackchannelLogoutController {
  constructor(
    private readonly verifier: LogoutTokenVerifier,
    private readonly replay: LogoutTokenReplayGuard,
    private readonly directory: SessionDirectory,
    private readonly audit: SessionAudit,
    private readonly oidc: OidcClient,
  ) {}

  @Post('backchannel-logout')
  @HttpCode(200)
  @ReportOutcome('backchannel_logout')
  async logout(@Req() request: FastifyRequest): Promise<void> {
    const token = await this.verifier.verify(logoutTokenOf(request));
    // §2.6 step 7: a logout token is used once; remembered before acting, so a replay racing the original fails.
    const ttlMs = Math.max(1000, token.rememberUntil - Date.now());
    if (!(await this.replay.remember(token.issuer, token.jti, ttlMs))) {
      throw new BffError(BffErrorCode.InvalidLogoutToken, { detail: 'jti already used' });
    }
    let revoked: RevokedSession[];
    try {
      // With a sid, only that provider session's (and the sub's, when named too); otherwise every session of the sub.
      revoked =
        token.sid !== undefined
          ? await this.directory.revokeByIdpSessionId(token.sid, { sub: token.sub })
          : await this.directory.revokeBySub(token.sub!);
    } catch (error) {
      // Nothing was done: let the provider's retry of this same token through.
      await this.replay.forget(token.issuer, token.jti).catch(() => undefined);
      throw error;
    }
    await Promise.all(revoked.map((session) => session.refreshToken && this.oidc.revoke(session.refreshToken)));
    const target = token.sid !== undefined ? `idp_session:${token.sid}` : `user:${token.sub}`;
    await this.audit.record({ actor: 'idp', action: 'backchannel_logout', target, sessions: revoked.map((session) => session.publicId) });
  }
}

/**
 * Exactly one `logout_token` in an application/x-www-form-urlencoded body (§2.5). Nest's Fastify
 * adapter parses form bodies (a repeated parameter becomes an array, refused here).
 */
function logoutTokenOf(request: FastifyRequest): string {
  const contentType = (request.headers['content-type'] ?? '').toLowerCase().split(';', 1)[0]!.trim();
  const body =
    contentType === 'application/x-www-form-urlencoded' && typeof request.body === 'object' && request.body !== null
      ? (request.body as Record<string, unknown>)
      : undefined;
  const token = body?.logout_token;
  if (typeof token !== 'string' || token === '') {
    throw new BffError(BffErrorCode.InvalidLogoutToken, {
      variant: 'notFormEncoded',
      detail: body ? 'no single logout_token parameter' : 'not a form',
    });
  }
  return token;
}
