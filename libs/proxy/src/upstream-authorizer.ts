import type { ApiRoute } from '#sessiongate/config';
import type { FastifyRequest } from 'fastify';

/** Injection token of the UpstreamAuthorizer the proxy asks for each call's credentials. */
export const UPSTREAM_AUTHORIZER = Symbol('UPSTREAM_AUTHORIZER');

export interface AuthorizeOptions {
  /** The access token the upstream just refused with 401: the authorizer must not hand it out again (it refreshes, or throws). */
  readonly rejectedToken?: string;
}

/** Keeps sessions and tokens out of the proxy: another capability decides who may call which route, as whom. */
export interface UpstreamAuthorizer {
  /**
   * Returns the access token to send upstream for this route, or undefined for none. Throws a
   * GatewayError (e.g. 401 unauthenticated, 403 csrf, 503) to refuse. Called a second time, with
   * `rejectedToken`, when the upstream answered 401 to that token and the request can be sent again.
   */
  authorize(request: FastifyRequest, route: ApiRoute, options?: AuthorizeOptions): Promise<string | undefined>;
}
