import { Controller, Get } from '@nestjs/common';
import { CallerSession, Requires, type Session } from '#sessiongate/session';

/** Claims that only mean something to the login exchange itself. */
const PROTOCOL_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash']);

export interface UserInfo {
  readonly claims: Record<string, unknown>;
  readonly session: { readonly expiresAt: string; readonly absoluteExpiresAt: string };
  readonly logoutUrl: string;
}

@Controller('bff')
export class UserController {
  @Get('user')
  @Requires({ csrf: true, session: 'required', slideOptional: true })
  user(@CallerSession() session: Session): UserInfo {
    // The ID token's claims win over userinfo's: they are signed and bound to this login (as in route policies).
    const merged = { ...session.userinfo, ...session.claims };
    const claims = Object.fromEntries(Object.entries(merged).filter(([name]) => !PROTOCOL_CLAIMS.has(name)));
    return {
      claims,
      session: {
        expiresAt: new Date(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)).toISOString(),
        absoluteExpiresAt: new Date(session.absoluteExpiresAt).toISOString(),
      },
      logoutUrl: `/bff/logout?sid=${encodeURIComponent(session.publicId)}`,
    };
  }
}
