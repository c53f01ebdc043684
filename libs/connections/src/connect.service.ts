import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import * as client from 'openid-client';
import { safeReturnTo } from '#sessiongate/bff';
import {
  Clock,
  type ConnectionGrant,
  type Session,
  SessionAudit,
  SessionError,
  SessionErrorCode,
  SessionService,
} from '#sessiongate/session';
import { ConnectionDirectory } from './connection.directory.js';
import { ConnectionError, ConnectionErrorCode } from './connection.errors.js';
import { ConnectionGrants } from './connection-grants.service.js';

/** A started connection, kept server-side (encrypted, LOGIN_TIMEOUT) until the provider redirects back; usable once. */
interface PendingConnection {
  readonly connection: string;
  readonly state: string;
  readonly codeVerifier: string;
  readonly returnTo: string;
  /**
   * The session it was started in (its cookie value, encrypted like the tokens it will hold): the
   * provider's redirect back is cross-site, so a SameSite=Strict session cookie does not come with it.
   */
  readonly sessionId: string;
  readonly createdAt: number;
}

export interface StartedConnection {
  readonly pendingId: string;
  readonly authorizationUrl: URL;
}

/**
 * Connecting an account at a third-party provider: the authorization code flow with PKCE and `state`,
 * started from a session and bound to it and to this browser (a cookie naming the pending connection),
 * like /bff/login: the pending connection is used once, expires, and is the one the callback's cookie names.
 */
@Injectable()
export class ConnectService {
  constructor(
    private readonly directory: ConnectionDirectory,
    private readonly grants: ConnectionGrants,
    private readonly sessions: SessionService,
    private readonly audit: SessionAudit,
    private readonly clock: Clock,
  ) {}

  async start(session: Session, name: string, returnTo: unknown): Promise<StartedConnection> {
    const connection = this.directory.get(name);
    const state = client.randomState();
    const codeVerifier = client.randomPKCECodeVerifier();
    const authorizationUrl = await connection.authorizationUrl(state, codeVerifier);
    const pending: PendingConnection = {
      connection: name,
      state,
      codeVerifier,
      returnTo: safeReturnTo(returnTo),
      sessionId: session.id,
      createdAt: this.clock.now(),
    };
    return { pendingId: await this.sessions.savePending('connect', pending), authorizationUrl };
  }

  /**
   * Always consumes the pending connection, so a state can never be replayed, whatever the outcome.
   * `cookieSessionId`: the session cookie, when the browser sent it (SameSite=Lax): it must be the one
   * the connection was started in.
   */
  async complete(
    name: string,
    pendingId: string | undefined,
    cookieSessionId: string | undefined,
    parameters: URLSearchParams,
  ): Promise<{ readonly returnTo: string }> {
    const pending = pendingId ? await this.sessions.takePending<PendingConnection>('connect', pendingId) : null;
    if (!pending) throw new ConnectionError(ConnectionErrorCode.ConnectExpired);
    const states = parameters.getAll('state');
    if (pending.connection !== name || states.length !== 1 || !sameString(states[0] ?? '', pending.state)) {
      throw new ConnectionError(ConnectionErrorCode.ConnectInvalidState, {
        detail: pending.connection !== name ? 'started for another connection' : `${states.length} state parameter(s), or another state`,
      });
    }
    if (cookieSessionId !== undefined && cookieSessionId !== pending.sessionId) {
      throw new ConnectionError(ConnectionErrorCode.ConnectInvalidState, { variant: 'otherSession', detail: 'started in another session' });
    }
    const session = await this.sessions.read(pending.sessionId);
    if (!session)
      throw new SessionError(SessionErrorCode.Unauthenticated, { detail: 'the session the connection was started in has ended' });
    const connection = this.directory.get(name);
    const issued = await connection.exchangeCode(parameters, pending.state, pending.codeVerifier);
    const grant: ConnectionGrant = {
      accessToken: issued.accessToken,
      expiresAt: issued.expiresAt,
      refreshToken: issued.refreshToken,
      scopes: issued.scopes,
      connectedAt: this.clock.now(),
    };
    const { stored } = await this.grants.store(session, connection.definition, grant);
    if (!stored) {
      await connection.revoke(grant.refreshToken ?? grant.accessToken, grant.refreshToken ? 'refresh_token' : 'access_token');
      throw new SessionError(SessionErrorCode.Unauthenticated, { detail: 'the session ended while the connection completed' });
    }
    await this.audit.record({
      actor: `user:${session.sub}`,
      action: 'connect',
      target: `connection:${name}`,
      sessions: [session.publicId],
    });
    return { returnTo: pending.returnTo };
  }
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
