import type { ApiRoute } from '#sessiongate/config';
import type { FastifyRequest } from 'fastify';

/** Injection token of the UpstreamAuthorizer the proxy asks for each call's credentials. */
export const UPSTREAM_AUTHORIZER = Symbol('UPSTREAM_AUTHORIZER');

/** Keeps sessions and tokens out of the proxy: another capability decides who may call which route, as whom. */
export interface UpstreamAuthorizer {
  /**
   * Returns the access token to send upstream for this route, or undefined for none. Throws a
   * GatewayError (e.g. 401 unauthenticated, 403 csrf, 503) to refuse.
   */
  authorize(request: FastifyRequest, route: ApiRoute): Promise<string | undefined>;
}
