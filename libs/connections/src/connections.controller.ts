import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { CallerSession, Requires, type Session } from '#sessiongate/session';
import { ConnectedAccounts, type ConnectionView } from './connected-accounts.service.js';

/** The user's connected accounts: listed (never a token), and disconnected. Behind X-CSRF like every /bff call on the session. */
@Controller('bff/connections')
@Requires({ csrf: true, session: 'required' })
export class ConnectionsController {
  constructor(private readonly accounts: ConnectedAccounts) {}

  @Get()
  async list(@CallerSession() session: Session): Promise<{ readonly connections: ConnectionView[] }> {
    return { connections: await this.accounts.list(session) };
  }

  /** 204; the tokens are revoked at the provider (RFC 7009) when it has a revocation endpoint. */
  @Delete(':name')
  @HttpCode(204)
  async disconnect(@Param('name') name: string, @CallerSession() session: Session): Promise<void> {
    await this.accounts.disconnect(session, name);
  }
}
