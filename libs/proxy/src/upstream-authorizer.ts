import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ApiRoute } from '#sessiongate/config';
import type { StepUpRequirement } from '#sessiongate/step-up';
import type { UpstreamCredential } from './upstream-credential.js';

/** Injection token of the UpstreamAuthorizer the proxy asks for each call's credentials. */
export const UPSTREAM_AUTHORIZER = Symbol('UPSTREAM_AUTHORIZER');

/** Why `authorize` is asked again: what the refused credential's `retryAfter401` says. */
export interface AuthorizeOptions {
  /** The access token the upstream just refused with 401: the authorizer must not hand it out again (it refreshes, or throws). */
  readonly rejectedToken?: string;
  /**
   * The upstream refused the user's authentication as too weak or too old (RFC 9470 §3,
   * `insufficient_user_authentication`): the authorizer refuses with 401 `step_up_required` for this
   * requirement, and nothing is retried, since no refreshed token would carry a stronger login.
   */
  readonly stepUp?: StepUpRequirement;
  /** DPoP (RFC 9449 §9): the upstream asked for this nonce; the same token is sent again with a proof that carries it. */
  readonly dpopNonce?: string;
}

/**
 * The part of a request the authorizer reads and writes: a FastifyRequest is one, and so can be a bare
 * node:http request (a data plane off Fastify, a forward-auth check).
 */
export interface AuthorizedRequest {
  /** The request's method, which a route's `methods` may refuse (405). */
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The public id of the session the credential is for, once granted (for the logs; never the cookie value). */
  sessionPublicId: string | null;
}

/**
 * The part of a WebSocket handshake the authorizer reads: an IncomingMessage is one, and so is the
 * handshake a forward-auth check names (whose own method and URL are the check's).
 */
export type UpgradeRequest = Pick<IncomingMessage, 'method' | 'headers'>;

/** What a WebSocket handshake is granted. */
export interface UpgradeGrant {
  /** Sent upstream with the handshake; none when undefined. */
  readonly credential: UpstreamCredential | undefined;
  /** The session the connection lives on, when the token is a user's: the connection must not outlive it. */
  readonly session: SessionLease | undefined;
}

/** A session that an open WebSocket depends on, without the proxy learning anything else about it. */
export interface SessionLease {
  /** Names the session for `WebSocketProxy.closeSession` (its store key hash, never the cookie value). */
  readonly key: string;
  /** Milliseconds until the session's absolute expiry. */
  readonly expiresInMs: number;
  /** False once the session is gone (revoked, logged out, expired); throws when that cannot be told (store down). */
  isAlive(): Promise<boolean>;
}

/** Keeps sessions and tokens out of the proxy: another capability decides who may call which route, as whom. */
export interface UpstreamAuthorizer {
  /**
   * Steps 4 to 7 of an /api request (docs/REQUEST-PIPELINE.md): returns the credential to send upstream
   * for this route, or undefined for none. Throws a GatewayError (e.g. 401 unauthenticated, 403 csrf, 503)
   * to refuse. Called a second time, with the refused credential's `retryAfter401`, when the upstream
   * answered 401 and the request can be sent again: undefined then means nothing better to send.
   */
  authorize(request: AuthorizedRequest, route: ApiRoute, options?: AuthorizeOptions): Promise<UpstreamCredential | undefined>;

  /**
   * The same decision for a WebSocket handshake on a `websocket` route, which cannot carry `X-CSRF`:
   * the proxy has checked its `Origin` instead. Throws a GatewayError to refuse, as `authorize` does.
   */
  authorizeUpgrade(request: UpgradeRequest, route: ApiRoute): Promise<UpgradeGrant>;

  /** Calls `changed` with a lease's `key` as soon as that session may have ended (deleted or replaced anywhere). */
  watchSessions(changed: (key: string) => void): void;
}
