import { Controller, Get, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ReportOutcome } from '#sessiongate/observability';
import { ProviderReadyGuard } from '#sessiongate/oidc';
import { SessionCookies } from '#sessiongate/http';
import { RateLimit, RateLimitGuard } from './rate-limit.guard.js';
import { LoginService } from './login.service.js';

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
  ) {}

  @Get('login')
  @RateLimit('login')
  async login(@Query('returnTo') returnTo: unknown, @Res() reply: FastifyReply): Promise<void> {
    const { loginId, authorizationUrl } = await this.logins.start(returnTo);
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
    const maxAgeSeconds = Math.floor((session.absoluteExpiresAt - Date.now()) / 1000);
    await reply.header('set-cookie', [this.cookies.clearLogin(), this.cookies.session(session.id, maxAgeSeconds)]).redirect(returnTo, 302);
  }
}
