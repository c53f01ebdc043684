import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { isApiPath, requestPath, sendError } from '#sessiongate/observability';
import { CsrfError } from './csrf.error.js';

/**
 * Top-level navigations that legitimately arrive from other sites: the provider's redirect back, a
 * logout link (guarded by its `sid`), a login link, and the provider's server-to-server logout (and,
 * below, a connection's provider redirecting back).
 */
const NAVIGATIONS = new Set(['/bff/login', '/bff/callback', '/bff/logout', '/bff/backchannel-logout']);
/** A third-party provider's redirect back after the user connected an account (see CONNECTIONS). */
const CONNECT_CALLBACK = /^\/bff\/connect\/[a-z0-9][a-z0-9-]{0,62}\/callback$/;
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/** Whether the gateway's browser-session defences apply to this path (its API and session endpoints). */
export function isProtectedPath(path: string): boolean {
  return (isApiPath(path) || path.startsWith('/bff/')) && !NAVIGATIONS.has(path) && !CONNECT_CALLBACK.test(path);
}

/**
 * Why a request to a protected path must be refused as cross-origin, or undefined. Browsers send
 * `Origin` on every cross-origin fetch and `Sec-Fetch-Site` on every request: an `Origin` that is
 * neither the gateway's nor listed, or a cross-site request from anything but a listed origin
 * (the gateway's own page is never cross-site), is refused, on top of the X-CSRF header check.
 */
export function crossOriginRefusal(
  headers: FastifyRequest['headers'],
  publicOrigin: string,
  listedOrigins: ReadonlySet<string>,
): string | undefined {
  const origin = headers.origin;
  if (origin !== undefined && origin !== publicOrigin && !listedOrigins.has(origin)) return `Origin ${origin} is not allowed`;
  if (headers['sec-fetch-site'] === 'cross-site' && (origin === undefined || !listedOrigins.has(origin)))
    return 'Sec-Fetch-Site: cross-site';
  return undefined;
}

/** What the cross-origin step decides for a request to a protected path: refuse it, answer its preflight, or let it through. */
export type CrossOriginAnswer =
  | { readonly refusal: CsrfError; readonly corsHeaders?: undefined; readonly preflight?: undefined }
  /** `corsHeaders`: to add to the response (a listed origin), or undefined (the gateway's own origin, or no Origin). */
  | { readonly refusal?: undefined; readonly corsHeaders: Readonly<Record<string, string>> | undefined; readonly preflight: boolean };

const PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
  'access-control-allow-headers': 'X-CSRF, Content-Type, X-Request-Id',
  'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
};
const PASS: CrossOriginAnswer = { corsHeaders: undefined, preflight: false };

/**
 * The gateway's CORS: its own origin needs none; an origin listed in CORS_ALLOWED_ORIGINS gets
 * credentialed CORS (never `*`), and its preflight is answered by the gateway (204), never by an
 * upstream; any other origin gets nothing and is refused. For the Fastify hook below and the /api data plane.
 */
export function crossOriginAnswer(
  headers: FastifyRequest['headers'],
  method: string,
  publicOrigin: string,
  listedOrigins: ReadonlySet<string>,
): CrossOriginAnswer {
  const refusal = crossOriginRefusal(headers, publicOrigin, listedOrigins);
  if (refusal) return { refusal: new CsrfError(refusal, 'crossOrigin') };
  const origin = headers.origin;
  if (origin === undefined || !listedOrigins.has(origin)) return PASS;
  const corsHeaders = { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' };
  const preflight = method === 'OPTIONS' && headers['access-control-request-method'] !== undefined;
  return { corsHeaders: preflight ? { ...corsHeaders, ...PREFLIGHT_HEADERS } : corsHeaders, preflight };
}

/** The cross-origin step as a Fastify onRequest hook, on every protected path Fastify serves (/bff). */
export function crossOriginHook(publicOrigin: string, extraOrigins: readonly string[]) {
  const listed = new Set(extraOrigins);
  // A callback hook rather than an async one: no promise per request.
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (!isProtectedPath(requestPath(request))) return done();
    const answer = crossOriginAnswer(request.headers, request.method, publicOrigin, listed);
    if (answer.refusal) return sendError(request, reply, answer.refusal);
    if (answer.corsHeaders) reply.headers(answer.corsHeaders);
    if (answer.preflight) void reply.code(204).send();
    else done();
  };
}
