import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The configured API route's prefix, set by the /api proxy once it has picked the route. */
    apiRoute: string | null;
    /** The public id of the caller's session once it was read (never the cookie value). */
    sessionPublicId: string | null;
    /** The error code answered (see sendError), if any. */
    errorCode: string | null;
  }
}

/** Declared up front (Fastify's decorateRequest) so that every request object has the same shape. */
export function declareRequestFields(fastify: FastifyInstance): void {
  fastify.decorateRequest('apiRoute', null);
  fastify.decorateRequest('sessionPublicId', null);
  fastify.decorateRequest('errorCode', null);
}

/**
 * A bounded name for what was asked, for logs and metrics: the API route's prefix, else the route
 * as declared (`/bff/sessions/:id`, never the id), else `unmatched`. Never the path itself.
 */
export function routeLabel(request: FastifyRequest): string {
  return request.apiRoute ?? request.routeOptions.url ?? 'unmatched';
}
