import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { audienceKey, SessionDirectory, type SessionSummary } from '#sessiongate/session';
import { AdminError, AdminErrorCode } from './admin.errors.js';
import type { AdminPrincipal } from './admin-jwt.strategy.js';
import type { AdminSessionPageView, AdminSessionView, HeldTokenView, RevokedView } from './admin.views.js';
import { SessionRevocation } from './session-revocation.service.js';

/** Lists and revokes sessions for an admin (revocation: see SessionRevocation, shared with the CLI). */
@Injectable()
export class AdminSessionsService {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly directory: SessionDirectory,
    private readonly revocation: SessionRevocation,
  ) {}

  /** `idpSessionId`: only the sessions of that provider session (`sid`), of `sub` too when both are given. */
  async list(sub: string | undefined, cursor: string | undefined, limit: number, idpSessionId?: string): Promise<AdminSessionPageView> {
    const page = await this.directory.list({ sub, idpSessionId, cursor, limit });
    return { sessions: page.sessions.map((summary) => this.view(summary)), nextCursor: page.nextCursor ?? null };
  }

  async get(publicId: string): Promise<AdminSessionView> {
    const summary = await this.directory.find(publicId);
    if (!summary) throw new AdminError(AdminErrorCode.SessionNotFound);
    return this.view(summary);
  }

  async revokeSession(admin: AdminPrincipal, publicId: string): Promise<RevokedView> {
    const revoked = await this.revocation.revokeSession(`admin:${admin.subject}`, publicId);
    if (!revoked) throw new AdminError(AdminErrorCode.SessionNotFound);
    return { revoked };
  }

  async revokeUser(admin: AdminPrincipal, sub: string): Promise<RevokedView> {
    return { revoked: await this.revocation.revokeUser(`admin:${admin.subject}`, sub) };
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
