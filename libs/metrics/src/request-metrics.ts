import type { FastifyInstance } from 'fastify';
import { routeLabel } from '#sessiongate/observability';
import type { GatewayMetrics } from './gateway.metrics.js';

/** Records every response: its route, status class and duration, and its error code if it is an error. */
export function measureEachRequest(fastify: FastifyInstance, metrics: GatewayMetrics): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.requestCompleted(routeLabel(request), reply.statusCode, reply.elapsedTime);
    if (request.errorCode) metrics.errorAnswered(request.errorCode);
    done();
  });
}

/** `GET /metrics`, the Prometheus text exposition. Unauthenticated: see SECURITY.md for where to serve it. */
export function serveMetrics(fastify: FastifyInstance, metrics: GatewayMetrics): void {
  fastify.get('/metrics', async (_request, reply) => {
    const text = await metrics.text();
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
