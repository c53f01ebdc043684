import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SessionCookies } from '#sessiongate/http';
import { CallerSession, Requires, type Session } from '#sessiongate/session';
import { ConnectService } from './connect.service.js';

/**
 * `/bff/connect/<name>?returnTo=…` sends the browser to the connection's provider, from a live session (a
 * top-level navigation: no X-CSRF, and the cross-origin check refuses one started from another site);
 * `/bff/connect/<name>/callback` is where the provider sends it back (exempt from that check, as
 * /bff/callback is). Failures answer JSON with an error code, and store nothing.
 */
@Controller('bff/connect')
export class ConnectController {
  constructor(
    private readonly connects: ConnectService,
    private readonly cookies: SessionCookies,
  ) {}

  @Get(':name')
  @Requires({ csrf: false, session: 'required' })
  async connect(
    @Param('name') name: string,
    @Query('returnTo') returnTo: unknown,
    @CallerSession() session: Session,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { pendingId, authorizationUrl } = await this.connects.start(session, name, returnTo);
    await reply.header('set-cookie', this.cookies.connect(pendingId)).redirect(authorizationUrl.href, 302);
  }

  @Get(':name/callback')
  async callback(@Param('name') name: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // The connect cookie is spent whatever happens next, including on the error response.
    reply.header('set-cookie', this.cookies.clearConnect());
    const parameters = new URL(request.url, 'http://gateway.invalid').searchParams;
    const cookie = request.headers.cookie;
    const { returnTo } = await this.connects.complete(name, this.cookies.connectId(cookie), this.cookies.sessionId(cookie), parameters);
    await reply.redirect(returnTo, 302);
  }
}
