import type { FastifyInstance } from 'fastify';
import { routeLabel } from './request-fields.js';
import type { Telemetry } from './telemetry.js';

/**
 * Ends every request's telemetry once its response is done: route, status, duration, the error code
 * and the session's public id when there are. Its start (Telemetry.requestStarted) is called from the
 * application's first onRequest hook rather than from a hook of its own, one call fewer per request.
 */
export function reportEachRequest(fastify: FastifyInstance, telemetry: Telemetry): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    telemetry.requestEnded(
      request.telemetryHandle,
      routeLabel(request),
      reply.statusCode,
      reply.elapsedTime,
      request.errorCode,
      request.sessionPublicId,
    );
    done();
  });
}
