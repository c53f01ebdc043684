import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { OidcClient } from '#sessiongate/oidc';
import { audienceKey, type RevokedSession, SessionAudit, SessionDirectory, type SessionSummary } from '#sessiongate/session';
import { AdminError, AdminErrorCode } from './admin.errors.js';
import type { AdminPrincipal } from './admin-jwt.strategy.js';
import type { AdminSessionPageView, AdminSessionView, HeldTokenView, RevokedView } from './admin.views.js';

/** Lists and revokes sessions for an admin: revocation ends the session, revokes its refresh token at the provider (RFC 7009) and is audited. */
@Injectable()
export class AdminSessionsService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly directory: SessionDirectory,
    private readonly audit: SessionAudit,
    private readonly oidc: OidcClient,
  ) {}

  async list(sub: string | undefined, cursor: string | undefined, limit: number): Promise<AdminSessionPageView> {
    const page = await this.directory.list({ sub, cursor, limit });
    return { sessions: page.sessions.map((summary) => this.view(summary)), nextCursor: page.nextCursor ?? null };
  }

  async get(publicId: string): Promise<AdminSessionView> {
    const summary = await this.directory.find(publicId);
    if (!summary) throw new AdminError(AdminErrorCode.SessionNotFound);
    return this.view(summary);
  }

  async revokeSession(admin: AdminPrincipal, publicId: string): Promise<RevokedView> {
    const revoked = await this.directory.revokeByPublicId(publicId);
    if (!revoked) throw new AdminError(AdminErrorCode.SessionNotFound);
    return this.finish(admin, 'revoke_session', `session:${publicId}`, [revoked]);
  }

  async revokeUser(admin: AdminPrincipal, sub: string): Promise<RevokedView> {
    return this.finish(admin, 'revoke_user_sessions', `user:${sub}`, await this.directory.revokeBySub(sub));
  }

  private async finish(admin: AdminPrincipal, action: string, target: string, revoked: readonly RevokedSession[]): Promise<RevokedView> {
    // The sessions are gone already; revocation at the provider is best effort (OidcClient logs failures).
    await Promise.all(revoked.map((session) => session.refreshToken && this.oidc.revoke(session.refreshToken)));
    const ids = revoked.map((session) => session.publicId);
    await this.audit.record({ actor: `admin:${admin.subject}`, action, target, sessions: ids });
    return { revoked: ids };
  }

  private view(summary: SessionSummary): AdminSessionView {
    return {
      id: summary.publicId,
      sub: summary.sub,
      idpSessionId: summary.idpSessionId,
      createdAt: iso(summary.createdAt),
      lastSeenAt: iso(summary.lastSeenAt),
      expiresAt: iso(Math.min(summary.idleExpiresAt, summary.absoluteExpiresAt)),
      absoluteExpiresAt: iso(summary.absoluteExpiresAt),
      userAgent: summary.userAgent,
      ip: summary.ip,
      hasRefreshToken: summary.hasRefreshToken,
      accessTokens: summary.accessTokens.map(({ audienceKey: key, expiresAt }) => this.heldToken(key, expiresAt)),
    };
  }

  private heldToken(key: string, expiresAt: number): HeldTokenView {
    // audienceKey() is `<resource> <scopes>`, either part empty; a resource URI holds no space.
    const space = key.indexOf(' ');
    const routes = this.config.routes
      .filter((route) => (route.token === 'user' || route.token === 'optional') && audienceKey(route.audience) === key)
      .map((route) => route.prefix);
    return { resource: key.slice(0, space) || undefined, scopes: key.slice(space + 1) || undefined, expiresAt: iso(expiresAt), routes };
  }
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
