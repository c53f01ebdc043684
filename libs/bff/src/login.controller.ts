import { Controller, Get, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ReportOutcome } from '#sessiongate/observability';
import { ProviderReadyGuard } from '#sessiongate/oidc';
import { SessionCookies } from '#sessiongate/http';
import { SessionCookieReader } from '#sessiongate/session';
import { loginParameters } from './login-parameters.policy.js';
import { LoginService } from './login.service.js';
import { RateLimit, RateLimitGuard } from './rate-limit.guard.js';

/**
 * Rate-limited per client address (RATE_LIMIT_LOGIN, RATE_LIMIT_CALLBACK): each login costs a
 * pending login in Redis and a round trip to the provider, and both endpoints are reachable by anyone.
 * Until the provider is discovered, both answer 503 idp_unavailable without touching the pending login.
 */
@UseGuards(RateLimitGuard, ProviderReadyGuard)
@Controller('bff')
export class LoginController {
  constructor(
    private readonly logins: LoginService,
    private readonly cookies: SessionCookies,
    private readonly reader: SessionCookieReader,
  ) {}

  /** Passes the allowlisted parameters (prompt, acr_values, max_age, login_hint, ui_locales) on; a step-up when a session asks for acr_values or max_age. */
  @Get('login')
  @RateLimit('login')
  async login(@Query('returnTo') returnTo: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const parameters = loginParameters(new URL(request.url, 'http://gateway.invalid').searchParams);
    const current =
      parameters.acrValues !== undefined || parameters.maxAgeSeconds !== undefined ? await this.reader.sessionOf(request.headers) : null;
    request.sessionPublicId = current?.publicId ?? null;
    const { loginId, authorizationUrl } = await this.logins.start(returnTo, parameters, current);
    await reply.header('set-cookie', this.cookies.login(loginId)).redirect(authorizationUrl.href, 302);
  }

  @Get('callback')
  @RateLimit('callback')
  @ReportOutcome('login')
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // The pre-login cookie is spent whatever happens next, including on the error response.
    reply.header('set-cookie', this.cookies.clearLogin());
    const parameters = new URL(request.url, 'http://gateway.invalid').searchParams;
    const client = { userAgent: request.headers['user-agent'], ip: request.ip };
    const { session, returnTo } = await this.logins.complete(this.cookies.loginId(request.headers.cookie), parameters, client);
    if (!session) {
      await reply.redirect(returnTo, 302);
      return;
    }
    const maxAgeSeconds = Math.floor((session.absoluteExpiresAt - Date.now()) / 1000);
    await reply.header('set-cookie', [this.cookies.clearLogin(), this.cookies.session(session.id, maxAgeSeconds)]).redirect(returnTo, 302);
  }
}
