import type { FastifyInstance } from 'fastify';

/**
 * One log line per request. The path is logged without its query string: on /bff/callback the
 * query carries the authorization code and state.
 */
export function logEachRequest(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const path = request.url.split('?', 1)[0];
    request.log.info(
      { method: request.method, path, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request completed',
    );
    done();
  });
}
