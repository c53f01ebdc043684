import { Injectable } from '@nestjs/common';
import { OidcClient } from '#sessiongate/oidc';
import { type RevokedSession, SessionAudit, SessionDirectory } from '#sessiongate/session';

/**
 * Revocation as operators do it, through the admin API or the break-glass CLI alike: the sessions
 * end at once (every instance), their refresh tokens are revoked at the provider (RFC 7009), and an
 * audit event names the actor (`admin:<sub>`, `cli:<os user>`).
 */
@Injectable()
export class SessionRevocation {
  constructor(
    private readonly directory: SessionDirectory,
    private readonly audit: SessionAudit,
    private readonly oidc: OidcClient,
  ) {}

  /** The public ids revoked (one), or undefined when no session has this public id. */
  async revokeSession(actor: string, publicId: string): Promise<string[] | undefined> {
    const revoked = await this.directory.revokeByPublicId(publicId);
    return revoked ? this.finish(actor, 'revoke_session', `session:${publicId}`, [revoked]) : undefined;
  }

  async revokeUser(actor: string, sub: string): Promise<string[]> {
    return this.finish(actor, 'revoke_user_sessions', `user:${sub}`, await this.directory.revokeBySub(sub));
  }

  private async finish(actor: string, action: string, target: string, revoked: readonly RevokedSession[]): Promise<string[]> {
    // The sessions are gone already; revocation at the provider is best effort (OidcClient logs failures).
    await Promise.all(revoked.map((session) => session.refreshToken && this.oidc.revoke(session.refreshToken)));
    const ids = revoked.map((session) => session.publicId);
    // The target may name a session only: the users let the trail be searched by whose sessions ended.
    await this.audit.record({ actor, action, target, sessions: ids, users: [...new Set(revoked.map((session) => session.sub))] });
    return ids;
  }
}
