import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { requestPath, routeLabel } from './request-fields.js';

/** What the one line per request says: no query string (on /bff/callback it carries the code and state), never a cookie. */
export interface CompletedRequest {
  readonly method: string;
  /** Without the query string. */
  readonly path: string;
  /** A bounded name: see routeLabel. */
  readonly route: string;
  readonly status: number;
  readonly durationMs: number;
  readonly sessionPublicId: string | null;
  readonly errorCode: string | null;
}

/**
 * One log line per request, with the route (a bounded name), status, latency, the session's public
 * id and the error code when there is one. Nothing is built when the logger's level drops the line.
 */
export function logEachRequest(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    if (!logger.isLevelEnabled('info')) return done();
    logCompletedRequest(request.log, {
      method: request.method,
      path: requestPath(request),
      route: routeLabel(request),
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
      sessionPublicId: request.sessionPublicId,
      errorCode: request.errorCode,
    });
    done();
  });
}

/** The line itself, for the Fastify hook above and the /api data plane alike (the caller checks the level). */
export function logCompletedRequest(log: FastifyBaseLogger, request: CompletedRequest): void {
  log.info(
    {
      method: request.method,
      path: request.path,
      route: request.route,
      status: request.status,
      ms: Math.round(request.durationMs),
      session: request.sessionPublicId ?? undefined,
      error: request.errorCode ?? undefined,
    },
    'request completed',
  );
}
