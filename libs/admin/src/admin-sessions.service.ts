import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { ConnectedAccounts } from '#sessiongate/connections';
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
    private readonly connections: ConnectedAccounts,
  ) {}

  /** `idpSessionId`: only the sessions of that provider session (`sid`), of `sub` too when both are given. */
  async list(sub: string | undefined, cursor: string | undefined, limit: number, idpSessionId?: string): Promise<AdminSessionPageView> {
    const page = await this.directory.list({ sub, idpSessionId, cursor, limit });
    const persisted = await this.persistedConnections(page.sessions);
    return { sessions: page.sessions.map((summary) => this.view(summary, persisted)), nextCursor: page.nextCursor ?? null };
  }

  async get(publicId: string): Promise<AdminSessionView> {
    const summary = await this.directory.find(publicId);
    if (!summary) throw new AdminError(AdminErrorCode.SessionNotFound);
    return this.view(summary, await this.persistedConnections([summary]));
  }

  async revokeSession(admin: AdminPrincipal, publicId: string): Promise<RevokedView> {
    const revoked = await this.revocation.revokeSession(`admin:${admin.subject}`, publicId);
    if (!revoked) throw new AdminError(AdminErrorCode.SessionNotFound);
    return { revoked };
  }

  /** With `connections`, the user's `persist: user` connections end too (revoked at their providers). */
  async revokeUser(admin: AdminPrincipal, sub: string, connections: boolean): Promise<RevokedView> {
    const actor = `admin:${admin.subject}`;
    const revoked = await this.revocation.revokeUser(actor, sub);
    return connections ? { revoked, connections: await this.connections.revokePersisted(actor, sub) } : { revoked };
  }

  /** Each user's `persist: user` connections, which every session of theirs may use. */
  private async persistedConnections(summaries: readonly SessionSummary[]): Promise<ReadonlyMap<string, readonly string[]>> {
    const subs = [...new Set(summaries.map((summary) => summary.sub))];
    return new Map(await Promise.all(subs.map(async (sub) => [sub, await this.connections.persistedNames(sub)] as const)));
  }

  private view(summary: SessionSummary, persisted: ReadonlyMap<string, readonly string[]>): AdminSessionView {
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
      connections: [...new Set([...summary.connections, ...(persisted.get(summary.sub) ?? [])])],
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
