import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The configured API route's prefix, set by the /api proxy once it has picked the route. */
    apiRoute: string | null;
    /** The public id of the caller's session once it was read (never the cookie value). */
    sessionPublicId: string | null;
    /** The error code answered (see sendError), if any. */
    errorCode: string | null;
    /** The URL's path, without the query string: read once per request through requestPath. */
    urlPath: string | null;
    /** What Telemetry.requestStarted returned, for requestEnded. */
    telemetryHandle: unknown;
  }
}

/** Declared up front (Fastify's decorateRequest) so that every request object has the same shape. */
export function declareRequestFields(fastify: FastifyInstance): void {
  fastify.decorateRequest('apiRoute', null);
  fastify.decorateRequest('sessionPublicId', null);
  fastify.decorateRequest('errorCode', null);
  fastify.decorateRequest('urlPath', null);
  fastify.decorateRequest('telemetryHandle', null);
}

/** The request's path without its query string, shared by every hook that routes on it. */
export function requestPath(request: FastifyRequest): string {
  return (request.urlPath ??= pathOf(request.url));
}

/** Whether a path (without its query string) is the /api proxy's. */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

function pathOf(url: string): string {
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? url : url.slice(0, queryStart);
}

/**
 * A bounded name for what was asked, for logs and metrics: the API route's prefix, else the route
 * as declared (`/bff/sessions/:id`, never the id), else `unmatched`. Never the path itself.
 */
export function routeLabel(request: FastifyRequest): string {
  return request.apiRoute ?? request.routeOptions.url ?? 'unmatched';
}
