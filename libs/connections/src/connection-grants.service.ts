import { Injectable } from '@nestjs/common';
import type { ConnectionConfig } from '#sessiongate/config';
import { type ConnectionGrant, type Session, type SessionData, SessionService, UserVault } from '#sessiongate/session';

/** A grant as it was read, with what a conditional write needs to know it is still the one stored. */
export interface HeldGrant {
  readonly grant: ConnectionGrant;
  /** The vault record's version (`persist: user`). */
  readonly version: number | undefined;
}

/**
 * Where a connection's tokens live: in the session record (`persist: session`), written over its latest
 * version so that a refresh of the user's own tokens, under its own lock, is never undone (SessionService.update);
 * or in the user's vault (`persist: user`), shared by all their sessions, versioned.
 */
@Injectable()
export class ConnectionGrants {
  constructor(
    private readonly sessions: SessionService,
    private readonly vault: UserVault,
  ) {}

  /** The grant the session may use, as the session (maybe from memory) or the vault holds it now. */
  async held(session: Session, connection: ConnectionConfig): Promise<HeldGrant | undefined> {
    if (connection.persist === 'session') {
      const grant = session.connections?.[connection.name];
      return grant && { grant, version: undefined };
    }
    const vaulted = await this.vault.read<ConnectionGrant>(session.sub, connection.name);
    return vaulted ? { grant: vaulted.value, version: vaulted.version } : undefined;
  }

  /** As `held`, from the store (a read that decides a refresh, after the lock); null when the session has ended. */
  async heldFresh(session: Session, connection: ConnectionConfig): Promise<{ session: Session; held: HeldGrant | undefined } | null> {
    const latest = connection.persist === 'session' ? await this.sessions.read(session.id, { fresh: true }) : session;
    return latest && { session: latest, held: await this.held(latest, connection) };
  }

  /** Stores a new grant (the user connected), over whatever was there; returns what it replaced. False when the session has ended. */
  async store(
    session: Session,
    connection: ConnectionConfig,
    grant: ConnectionGrant,
  ): Promise<{ stored: boolean; replaced: ConnectionGrant | undefined }> {
    if (connection.persist === 'user') {
      const replaced = await this.vault.read<ConnectionGrant>(session.sub, connection.name);
      await this.vault.write(session.sub, connection.name, grant, connection.persistSeconds * 1000);
      return { stored: true, replaced: replaced?.value };
    }
    let replaced: ConnectionGrant | undefined;
    const updated = await this.sessions.update(session, (current) => {
      replaced = current.connections?.[connection.name];
      return withConnection(current, connection.name, grant);
    });
    return { stored: updated !== null, replaced };
  }

  /** Replaces `held` by `next` (a refresh), or removes it (undefined), only if it is still the one stored. */
  async replace(session: Session, connection: ConnectionConfig, held: HeldGrant, next: ConnectionGrant | undefined): Promise<boolean> {
    if (connection.persist === 'user') {
      if (next === undefined) return (await this.vault.delete(session.sub, connection.name, held.version)) !== null;
      return (await this.vault.write(session.sub, connection.name, next, connection.persistSeconds * 1000, held.version)) !== null;
    }
    const stored = JSON.stringify(held.grant);
    const updated = await this.sessions.update(session, (current) =>
      JSON.stringify(current.connections?.[connection.name]) === stored ? withConnection(current, connection.name, next) : undefined,
    );
    return updated !== null;
  }

  /** Removes the connection whatever it holds (the user disconnected); returns what it held. */
  async remove(session: Session, connection: ConnectionConfig): Promise<ConnectionGrant | undefined> {
    if (connection.persist === 'user') return (await this.vault.delete<ConnectionGrant>(session.sub, connection.name))?.value;
    let removed: ConnectionGrant | undefined;
    await this.sessions.update(session, (current) => {
      removed = current.connections?.[connection.name];
      return removed === undefined ? undefined : withConnection(current, connection.name, undefined);
    });
    return removed;
  }

  /** A user's `persist: user` grant, whichever session asks. */
  async persisted(sub: string, connection: ConnectionConfig): Promise<ConnectionGrant | undefined> {
    return (await this.vault.read<ConnectionGrant>(sub, connection.name))?.value;
  }

  /** Removes a user's persisted connection (an admin revoking all their sessions with `connections=true`); returns what it held. */
  async removePersisted(sub: string, connection: ConnectionConfig): Promise<ConnectionGrant | undefined> {
    return (await this.vault.delete<ConnectionGrant>(sub, connection.name))?.value;
  }
}

function withConnection(session: SessionData, name: string, grant: ConnectionGrant | undefined): SessionData {
  const { [name]: _previous, ...others } = session.connections ?? {};
  return { ...session, connections: grant === undefined ? others : { ...others, [name]: grant } };
}
