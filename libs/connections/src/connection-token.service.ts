import { hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type ConnectionConfig, GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { Clock, type ConnectionGrant, type Session, SessionError, SessionErrorCode, sessionKeyHash, UserVault } from '#sessiongate/session';
import { type ConnectedToken, type ConnectedTokenSource, RefreshLock, SingleFlight, UserTokenAuthorizer } from '#sessiongate/tokens';
import { type ConnectionClient, RefreshRefused } from './connection.client.js';
import { ConnectionDirectory } from './connection.directory.js';
import { ConnectionError } from './connection.errors.js';
import { ConnectionGrants, type HeldGrant } from './connection-grants.service.js';
import { refererReturnTo } from './connect-return.policy.js';

/**
 * The token `connected:<name>` routes relay: the user's access token at that provider, refreshed when it
 * nears expiry (TOKEN_REFRESH_SKEW) or was refused, exactly as the user's own tokens are: one refresh in
 * the process (single flight), under a refresh lock shared by every instance, then a re-read, since
 * another instance may have refreshed already. The lock is one per session and connection (`persist:
 * user`: per user and connection, whose sessions share the grant), never the session's own: the user's
 * tokens and each connection refresh independently. A refused refresh token drops the connection, never
 * the session: 401 connection_required.
 */
@Injectable()
export class ConnectionTokenService implements ConnectedTokenSource, OnModuleInit {
  private readonly refreshes = new SingleFlight<ConnectedToken>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly directory: ConnectionDirectory,
    private readonly grants: ConnectionGrants,
    private readonly vault: UserVault,
    private readonly lock: RefreshLock,
    private readonly clock: Clock,
    private readonly authorizer: UserTokenAuthorizer,
  ) {}

  onModuleInit(): void {
    this.authorizer.useConnectedTokens(this);
  }

  async accessTokenFor(session: Session, name: string, headers: IncomingHttpHeaders, rejectedToken?: string): Promise<ConnectedToken> {
    const connection = this.directory.get(name);
    const { definition } = connection;
    const held = await this.grants.held(session, definition);
    if (!held) throw this.required(definition, headers, 'not connected');
    if (this.usable(held.grant, rejectedToken)) return tokenOf(held.grant);
    const lockName = this.lockName(session, definition);
    return this.refreshes.run(lockName, () =>
      this.lock.holdKey(lockName, async () => {
        const fresh = await this.grants.heldFresh(session, definition);
        if (!fresh)
          throw new SessionError(SessionErrorCode.Unauthenticated, { detail: 'session ended while waiting for a connection refresh' });
        if (!fresh.held) throw this.required(definition, headers, 'disconnected while waiting for its refresh');
        if (this.usable(fresh.held.grant, rejectedToken)) return tokenOf(fresh.held.grant);
        return this.refresh(fresh.session, connection, fresh.held, headers, rejectedToken);
      }),
    );
  }

  private async refresh(
    session: Session,
    connection: ConnectionClient,
    held: HeldGrant,
    headers: IncomingHttpHeaders,
    rejectedToken: string | undefined,
  ): Promise<ConnectedToken> {
    const { definition } = connection;
    const { grant } = held;
    if (!grant.refreshToken) {
      await this.grants.replace(session, definition, held, undefined);
      throw this.required(definition, headers, 'access token due or refused, and no refresh token');
    }
    let issued: Awaited<ReturnType<ConnectionClient['refresh']>>;
    try {
      issued = await connection.refresh(grant.refreshToken, grant.scopes);
    } catch (error) {
      if (error instanceof RefreshRefused) {
        // The provider has ended the grant (expired, revoked by the user there, reused): the session itself is fine.
        await this.grants.replace(session, definition, held, undefined);
        throw this.required(definition, headers, `refresh refused: ${error.message}`);
      }
      // The provider is down: a token that has not actually expired, and was not refused, is still good to use.
      if (grant.accessToken !== rejectedToken && (grant.expiresAt === undefined || grant.expiresAt > this.clock.now()))
        return tokenOf(grant);
      throw error;
    }
    const next: ConnectionGrant = {
      accessToken: issued.accessToken,
      expiresAt: issued.expiresAt,
      // RFC 9700 §4.14: with rotation the old refresh token is spent; without, the provider sends none.
      refreshToken: issued.refreshToken ?? grant.refreshToken,
      scopes: issued.scopes,
      connectedAt: grant.connectedAt,
    };
    if (!(await this.grants.replace(session, definition, held, next))) {
      // Disconnected (or the session ended) while the provider answered: what it just issued must not outlive that.
      await connection.revoke(next.refreshToken ?? next.accessToken, next.refreshToken ? 'refresh_token' : 'access_token');
      throw this.required(definition, headers, 'disconnected while its tokens were being refreshed');
    }
    return tokenOf(next);
  }

  private usable(grant: ConnectionGrant, rejectedToken: string | undefined): boolean {
    if (grant.accessToken === rejectedToken) return false;
    return grant.expiresAt === undefined || grant.expiresAt - this.config.tokens.refreshSkewSeconds * 1000 > this.clock.now();
  }

  /** Never the session's own lock (the hash of its id): the hash of the connection's name and the session's key hash, or the vault's. */
  private lockName(session: Session, connection: ConnectionConfig): string {
    if (connection.persist === 'user') return this.vault.lockName(session.sub, connection.name);
    return hash('sha256', `connection\u0000${connection.name}\u0000${sessionKeyHash(session.id)}`, 'base64url');
  }

  private required(connection: ConnectionConfig, headers: IncomingHttpHeaders, detail: string): ConnectionError {
    return ConnectionError.required(connection.name, refererReturnTo(headers, this.config.publicUrl.origin), detail);
  }
}

function tokenOf(grant: ConnectionGrant): ConnectedToken {
  return { value: grant.accessToken, scopes: grant.scopes };
}
