import { Injectable, type OnModuleInit } from '@nestjs/common';
import { type ConnectionGrant, type Session, type SessionData, SessionAudit, SessionEndListeners } from '#sessiongate/session';
import type { ConnectionClient } from './connection.client.js';
import { ConnectionDirectory } from './connection.directory.js';
import { ConnectionError, ConnectionErrorCode } from './connection.errors.js';
import { ConnectionGrants } from './connection-grants.service.js';

/** What a user (or an admin) may see of a connection: never a token. */
export interface ConnectionView {
  readonly name: string;
  readonly persist: 'session' | 'user';
  readonly scopes: readonly string[];
  readonly connectedAt: string;
  /** The access token's expiry; null when the provider gave none. */
  readonly expiresAt: string | null;
}

/**
 * A user's connections over their lifetime: listed, disconnected (revoked at the provider, RFC 7009),
 * ended with the session that holds them (SessionEndListeners: logout, revocation, back-channel logout,
 * a refused refresh), and, for `persist: user` ones, ended by an admin. Connect and disconnect are audited.
 */
@Injectable()
export class ConnectedAccounts implements OnModuleInit {
  constructor(
    private readonly directory: ConnectionDirectory,
    private readonly grants: ConnectionGrants,
    private readonly audit: SessionAudit,
    private readonly endings: SessionEndListeners,
  ) {}

  onModuleInit(): void {
    this.endings.listen((ended) => this.sessionEnded(ended));
  }

  async list(session: Session): Promise<ConnectionView[]> {
    const views = await Promise.all(
      this.directory.all.map(async ({ definition }) => {
        const held = await this.grants.held(session, definition);
        return held && view(definition.name, definition.persist, held.grant);
      }),
    );
    return views.filter((connection) => connection !== undefined);
  }

  /** Forgets the connection and revokes its tokens at the provider; 404 connection_not_found when it was not connected. */
  async disconnect(session: Session, name: string): Promise<void> {
    const connection = this.directory.get(name);
    const removed = await this.grants.remove(session, connection.definition);
    if (!removed) throw new ConnectionError(ConnectionErrorCode.ConnectionNotFound, { detail: `${name} is not connected` });
    await revokeGrant(connection, removed);
    await this.audit.record({
      actor: `user:${session.sub}`,
      action: 'disconnect',
      target: `connection:${name}`,
      sessions: [session.publicId],
    });
  }

  /** The user's `persist: user` connections' names (for admin views). */
  async persistedNames(sub: string): Promise<string[]> {
    const persisted = this.directory.all.filter(({ definition }) => definition.persist === 'user');
    const held = await Promise.all(
      persisted.map(async ({ definition }) => ((await this.grants.persisted(sub, definition)) ? definition.name : undefined)),
    );
    return held.filter((name) => name !== undefined);
  }

  /** Ends every `persist: user` connection of the user (an admin revoking all their sessions with `connections=true`). */
  async revokePersisted(actor: string, sub: string): Promise<string[]> {
    const ended: string[] = [];
    for (const connection of this.directory.all.filter(({ definition }) => definition.persist === 'user')) {
      const removed = await this.grants.removePersisted(sub, connection.definition);
      if (!removed) continue;
      await revokeGrant(connection, removed);
      ended.push(connection.definition.name);
    }
    if (ended.length > 0)
      await this.audit.record({ actor, action: 'disconnect', target: `user:${sub} connections:${ended.join(',')}`, sessions: [] });
    return ended;
  }

  /** The session's own connections end with it; `persist: user` ones are the user's and stay. */
  private async sessionEnded(session: SessionData): Promise<void> {
    const held = Object.entries(session.connections ?? {});
    await Promise.all(
      held.map(async ([name, grant]) => {
        const connection = this.directory.all.find(({ definition }) => definition.name === name);
        if (connection) await revokeGrant(connection, grant);
      }),
    );
  }
}

/** Both tokens, best effort: revoking the refresh token ends the grant at most providers, but not at all of them. */
async function revokeGrant(connection: ConnectionClient, grant: ConnectionGrant): Promise<void> {
  if (grant.refreshToken) await connection.revoke(grant.refreshToken, 'refresh_token');
  await connection.revoke(grant.accessToken, 'access_token');
}

function view(name: string, persist: 'session' | 'user', grant: ConnectionGrant): ConnectionView {
  return {
    name,
    persist,
    scopes: grant.scopes.split(' ').filter(Boolean),
    connectedAt: new Date(grant.connectedAt).toISOString(),
    expiresAt: grant.expiresAt === undefined ? null : new Date(grant.expiresAt).toISOString(),
  };
}
