import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { ReportOutcome } from '#sessiongate/observability';
import { OidcClient } from '#sessiongate/oidc';
import { SessionCookies } from '#sessiongate/http';
import { SessionCookieReader, SessionService } from '#sessiongate/session';
import { BffError, BffErrorCode } from './bff.errors.js';

@Controller('bff')
export class LogoutController {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly sessions: SessionService,
    private readonly reader: SessionCookieReader,
    private readonly cookies: SessionCookies,
    private readonly oidc: OidcClient,
  ) {}

  /**
   * Ends the session, revokes its refresh token (RFC 7009) and hands the browser to the provider's
   * end_session_endpoint. The `sid` from /bff/user's logoutUrl is required, so a cross-site link
   * or image cannot log the user out.
   */
  @Get('logout')
  @ReportOutcome('logout')
  async logout(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Read in the handler rather than by RouteGuard: a store failure here is one of logout's counted outcomes.
    const session = await this.reader.sessionOf(request.headers);
    request.sessionPublicId = session?.publicId ?? null;
    if (!session) {
      await reply.header('set-cookie', this.cookies.clearSession()).redirect(this.config.oidc.postLogoutRedirectUri.href, 302);
      return;
    }
    const sids = new URL(request.url, 'http://gateway.invalid').searchParams.getAll('sid');
    if (sids.length !== 1 || sids[0] !== session.publicId) {
      throw new BffError(BffErrorCode.InvalidLogoutRequest);
    }
    await this.sessions.end(session.id);
    if (session.tokens.refreshToken) await this.oidc.revoke(session.tokens.refreshToken);
    const endSession = this.oidc.endSessionUrl(session.tokens.idToken);
    await reply
      .header('set-cookie', this.cookies.clearSession())
      .redirect((endSession ?? this.config.oidc.postLogoutRedirectUri).href, 302);
  }
}
