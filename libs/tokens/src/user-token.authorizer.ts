import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { ApiRoute } from '#sessiongate/config';
import { assertCsrfHeader } from '#sessiongate/http';
import {
  type AuthorizedRequest,
  type AuthorizeOptions,
  BearerCredential,
  type SessionLease,
  type UpgradeGrant,
  type UpstreamAuthorizer,
  type UpstreamCredential,
} from '#sessiongate/proxy';
import {
  Clock,
  type Session,
  SessionCookieReader,
  SessionError,
  SessionErrorCode,
  SessionService,
  sessionKeyHash,
} from '#sessiongate/session';
import { assertRouteStepUp, StepUpError } from '#sessiongate/step-up';
import { AccessTokenService } from './access-token.service.js';
import { ClientTokenService } from './client-token.service.js';

interface Grant {
  readonly credential: UpstreamCredential | undefined;
  readonly session: Session | null;
}

/**
 * Steps 4 to 7 of an /api request (docs/REQUEST-PIPELINE.md), in this order: the CSRF header, the session
 * where the route's token mode needs one, the route policy (step-up so far), and the route's token as a credential.
 */
@Injectable()
export class UserTokenAuthorizer implements UpstreamAuthorizer {
  constructor(
    private readonly sessions: SessionService,
    private readonly reader: SessionCookieReader,
    private readonly accessTokens: AccessTokenService,
    private readonly clientTokens: ClientTokenService,
    private readonly clock: Clock,
  ) {}

  async authorize(request: AuthorizedRequest, route: ApiRoute, options?: AuthorizeOptions): Promise<UpstreamCredential | undefined> {
    assertCsrfHeader(request.headers);
    // Asked again after the upstream's RFC 9470 challenge: the answer is the step-up, never another token.
    // The gateway's own (client) token has no user login to step up: its refusal is passed on as it is.
    if (options?.stepUp !== undefined) {
      if (route.token === 'client') return undefined;
      throw StepUpError.required(options.stepUp, 'the upstream asked for insufficient_user_authentication');
    }
    const { credential, session } = await this.grant(request.headers, route, options?.rejectedToken);
    request.sessionPublicId = session?.publicId ?? null;
    return credential;
  }

  /** No X-CSRF here: a handshake cannot carry it, and the proxy has checked its Origin instead. */
  async authorizeUpgrade(request: IncomingMessage, route: ApiRoute): Promise<UpgradeGrant> {
    const { credential, session } = await this.grant(request.headers, route, undefined);
    return { credential, session: session ? this.lease(session) : undefined };
  }

  watchSessions(changed: (key: string) => void): void {
    this.sessions.watchChanges(changed);
  }

  /** The route's credential, and the session it belongs to when it is a user's. */
  private async grant(headers: IncomingHttpHeaders, route: ApiRoute, rejectedToken: string | undefined): Promise<Grant> {
    const mode = route.token;
    const session = mode === 'user' || mode === 'optional' ? await this.reader.sessionOf(headers) : null;
    if (!session && mode === 'user') throw new SessionError(SessionErrorCode.Unauthenticated);
    // The route policy (scopes, step-up) plugs in here: after the session it judges, before a token is spent on it.
    if (session && mode === 'user') assertRouteStepUp(session.claims, route, this.clock.now());
    const token =
      mode === 'client'
        ? await this.clientTokens.accessTokenFor(route.audience, rejectedToken)
        : session
          ? await this.accessTokens.accessTokenFor(session, route.audience, rejectedToken)
          : undefined;
    return { credential: token === undefined ? undefined : new BearerCredential(token), session };
  }

  /**
   * Checked by reading the session as a request would: an open WebSocket is activity, so it slides
   * the idle expiry like requests do; the absolute expiry still ends it.
   */
  private lease(session: Session): SessionLease {
    return {
      key: sessionKeyHash(session.id),
      expiresInMs: session.absoluteExpiresAt - this.clock.now(),
      isAlive: async () => (await this.sessions.read(session.id)) !== null,
    };
  }
}
