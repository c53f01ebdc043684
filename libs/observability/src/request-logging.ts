import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { requestPath, routeLabel } from './request-fields.js';

/**
 * One log line per request, with the route (a bounded name), status, latency, the session's public
 * id and the error code when there is one. The path is logged without its query string: on
 * /bff/callback the query carries the authorization code and state. Nothing is built when the
 * logger's level drops the line.
 */
export function logEachRequest(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    if (!logger.isLevelEnabled('info')) return done();
    request.log.info(
      {
        method: request.method,
        path: requestPath(request),
        route: routeLabel(request),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        session: request.sessionPublicId ?? undefined,
        error: request.errorCode ?? undefined,
      },
      'request completed',
    );
    done();
  });
}
