import type { FastifyInstance } from 'fastify';
import type { MetricsText } from './cluster.metrics.js';

/** `GET /metrics`, the Prometheus text exposition. Unauthenticated: see SECURITY.md for where to serve it. */
export function serveMetrics(fastify: FastifyInstance, metrics: MetricsText): void {
  fastify.get('/metrics', async (_request, reply) => {
    const text = await metrics.text();
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
