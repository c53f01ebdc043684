import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '#sessiongate/observability';
import { ADMIN_DOCS_PATH } from './admin-docs.js';
import { AdminError, AdminErrorCode } from './admin.errors.js';
import { isConsolePath } from './console/admin-console.routes.js';

/**
 * Refuses an /admin call without a bearer token before its body is read: Fastify parses bodies
 * before Nest's guards run, and an anonymous caller should not learn how its body was taken. The
 * token itself is verified by AdminGuard. The console's paths take its session cookie instead
 * (AdminConsoleGuard), and answer 404 when the console is off.
 */
export async function requireAdminBearer(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const path = request.url.split('?', 1)[0]!;
  if (!path.startsWith('/admin/') || path.startsWith(`/${ADMIN_DOCS_PATH}`) || isConsolePath(path)) return undefined;
  if (/^Bearer \S/i.test(request.headers.authorization ?? '')) return undefined;
  sendError(
    request,
    reply,
    new AdminError(AdminErrorCode.InvalidToken, { detail: 'no bearer token', headers: { 'www-authenticate': 'Bearer' } }),
  );
  return reply;
}
