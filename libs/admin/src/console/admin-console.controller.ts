import { Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProviderReadyGuard } from '#sessiongate/oidc';
import { type Session, SessionService } from '#sessiongate/session';
import { CONSOLE_PATH } from './admin-console.routes.js';
import { AdminConsoleCookies } from './admin-console.cookies.js';
import { AdminConsoleGuard, ConsoleSession } from './admin-console.guard.js';
import { AdminConsoleLoginService } from './admin-console-login.service.js';
import { CONSOLE_PAGE_HEADERS, type ConsoleFile, loadConsoleAssets } from './admin-console.pages.js';

/**
 * The console's page and its login: the gateway as its own BFF. The page is static and holds no
 * data; everything it shows comes from AdminConsoleApiController, behind the console session.
 */
@Controller(CONSOLE_PATH.slice(1))
export class AdminConsoleController {
  private readonly assets = loadConsoleAssets();

  constructor(
    private readonly logins: AdminConsoleLoginService,
    private readonly cookies: AdminConsoleCookies,
    private readonly sessions: SessionService,
  ) {}

  @Get()
  page(@Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, 'index.html');
  }

  @Get('console.js')
  script(@Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, 'console.js');
  }

  @Get('console.css')
  style(@Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, 'console.css');
  }

  @Get('login')
  @UseGuards(ProviderReadyGuard)
  async login(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.logins.limit('login', request.ip);
    const { loginId, authorizationUrl } = await this.logins.start();
    await reply.header('set-cookie', this.cookies.login(loginId)).redirect(authorizationUrl.href, 302);
  }

  @Get('callback')
  @UseGuards(ProviderReadyGuard)
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.logins.limit('callback', request.ip);
    // The pre-login cookie is spent whatever happens next, including on the error response.
    reply.header('set-cookie', this.cookies.clearLogin());
    const parameters = new URL(request.url, 'http://gateway.invalid').searchParams;
    const session = await this.logins.complete(this.cookies.loginId(request.headers.cookie), parameters, {
      userAgent: request.headers['user-agent'],
      ip: request.ip,
    });
    const maxAgeSeconds = Math.floor((session.absoluteExpiresAt - Date.now()) / 1000);
    await reply
      .header('set-cookie', [this.cookies.clearLogin(), this.cookies.session(session.id, maxAgeSeconds)])
      .redirect(CONSOLE_PATH, 302);
  }

  /** Ends the console session only: the operator's session at the provider, and in other applications, is theirs to end. */
  @Post('logout')
  @HttpCode(204)
  @UseGuards(AdminConsoleGuard)
  async logout(@ConsoleSession() session: Session, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.sessions.destroy(session.id);
    reply.header('set-cookie', this.cookies.clearSession());
  }

  private async send(reply: FastifyReply, file: ConsoleFile): Promise<void> {
    const asset = this.assets.get(file)!;
    await reply.headers(CONSOLE_PAGE_HEADERS).header('content-type', asset.contentType).send(asset.body);
  }
}
