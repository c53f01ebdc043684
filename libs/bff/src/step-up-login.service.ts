import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { OidcClient } from '#sessiongate/oidc';
import { LOGGER } from '#sessiongate/observability';
import {
  type NewSession,
  type PendingLogin,
  type Session,
  SessionDirectory,
  SessionError,
  SessionErrorCode,
  SessionService,
} from '#sessiongate/session';
import { StepUpError, StepUpErrorCode } from '#sessiongate/step-up';

type Replaced = NonNullable<PendingLogin['replaces']>;

/**
 * The end of a step-up login (docs/STEP-UP.md): the new login must be the same user at the same
 * provider as the session it steps up, and then replaces it under a new session id, as any login
 * does (session fixation: a cookie set before the stronger login must not inherit it).
 */
@Injectable()
export class StepUpLogin {
  constructor(
    private readonly sessions: SessionService,
    private readonly directory: SessionDirectory,
    private readonly oidc: OidcClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Ends the old session (every instance refuses its cookie at once, its WebSockets close, its refresh
   * token is revoked at the provider) and creates the new one, indexed afresh by user and provider
   * session. The user's other sessions are untouched. Refused before anything changes when the login
   * names another `sub` or `iss`; refused too when the old session ended meanwhile (logged out,
   * revoked): a step-up started before a revocation must not undo it.
   */
  async replace(replaced: Replaced, data: NewSession, newRefreshToken: string | undefined): Promise<Session> {
    if (data.sub !== replaced.sub || data.claims.iss !== replaced.iss) {
      if (newRefreshToken) await this.oidc.revoke(newRefreshToken);
      throw new StepUpError(StepUpErrorCode.StepUpSubjectMismatch, { detail: 'step-up ID token names another sub or iss' });
    }
    // Replaced, not ended: its third-party connections move to the new session instead of being revoked.
    const old = await this.directory.revokeByPublicId(replaced.publicId, { sub: replaced.sub }, { replaced: true });
    if (!old) {
      if (newRefreshToken) await this.oidc.revoke(newRefreshToken);
      throw new SessionError(SessionErrorCode.Unauthenticated, { detail: 'the session being stepped up ended during the login' });
    }
    // Best effort, as at logout: the session is gone already; OidcClient logs a failure.
    if (old.refreshToken) await this.oidc.revoke(old.refreshToken);
    const session = await this.sessions.create({ ...data, connections: old.connections });
    this.logger.info({ replacedSession: replaced.publicId, session: session.publicId }, 'step-up: session replaced');
    return session;
  }
}
