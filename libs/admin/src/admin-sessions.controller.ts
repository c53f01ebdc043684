import { Controller, Delete, Get, Param, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ReportOutcome } from '#sessiongate/observability';
import { pageQuery } from '#sessiongate/session';
import { AdminError, AdminErrorCode } from './admin.errors.js';
import { AdminGuard } from './admin.guard.js';
import type { AdminPrincipal } from './admin-jwt.strategy.js';
import { AdminSessionsService } from './admin-sessions.service.js';
import { AdminSessionPageView, AdminSessionView, ErrorView, RevokedView } from './admin.views.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

type AdminRequest = FastifyRequest & { readonly user: AdminPrincipal };

@ApiTags('sessions')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing or invalid bearer token.', type: ErrorView })
@ApiResponse({ status: 403, description: 'The token lacks ADMIN_REQUIRED_SCOPE.', type: ErrorView })
@UseGuards(AdminGuard)
@Controller('admin')
export class AdminSessionsController {
  constructor(private readonly sessions: AdminSessionsService) {}

  @Get('sessions')
  @ApiOperation({ summary: "List sessions: all of them, or one user's, a page at a time (ordered by absolute expiry)." })
  @ApiQuery({ name: 'sub', type: String, required: false, description: 'Only this user’s sessions.' })
  @ApiQuery({ name: 'sid', type: String, required: false, description: 'Only the sessions of this provider session (`sid`).' })
  @ApiQuery({ name: 'cursor', type: String, required: false, description: 'The previous page’s nextCursor.' })
  @ApiQuery({ name: 'limit', type: Number, required: false, description: `Page size, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}).` })
  @ApiOkResponse({ type: AdminSessionPageView })
  list(
    @Query('sub') sub: unknown,
    @Query('sid') sid: unknown,
    @Query('cursor') cursor: unknown,
    @Query('limit') limit: unknown,
  ): Promise<AdminSessionPageView> {
    const page = pageQuery(
      { cursor, limit },
      { defaultLimit: DEFAULT_LIMIT, maxLimit: MAX_LIMIT },
      (explanation) => new AdminError(AdminErrorCode.InvalidRequest, { explanation }),
    );
    return this.sessions.list(optionalString('sub', sub), page.cursor, page.limit, optionalString('sid', sid));
  }

  @Get('sessions/:id')
  @ApiOperation({ summary: 'One session, by its public id.' })
  @ApiOkResponse({ type: AdminSessionView })
  @ApiResponse({ status: 404, type: ErrorView })
  get(@Param('id') id: string): Promise<AdminSessionView> {
    return this.sessions.get(id);
  }

  @Delete('sessions/:id')
  @ApiOperation({ summary: 'End a session at once (every gateway instance), and revoke its refresh token at the provider.' })
  @ApiOkResponse({ type: RevokedView })
  @ApiResponse({ status: 404, type: ErrorView })
  @ReportOutcome('admin_revoke_session')
  revoke(@Param('id') id: string, @Req() request: AdminRequest): Promise<RevokedView> {
    return this.sessions.revokeSession(request.user, id);
  }

  @Delete('users/:sub/sessions')
  @ApiOperation({ summary: 'End every session of a user, and revoke their refresh tokens at the provider.' })
  @ApiQuery({
    name: 'connections',
    type: Boolean,
    required: false,
    description: "`true`: also end the user's `persist: user` connections (revoked at their providers).",
  })
  @ApiOkResponse({ type: RevokedView })
  @ReportOutcome('admin_revoke_user')
  revokeUser(@Param('sub') sub: string, @Query('connections') connections: unknown, @Req() request: AdminRequest): Promise<RevokedView> {
    return this.sessions.revokeUser(request.user, sub, booleanFlag('connections', connections));
  }
}

export function booleanFlag(name: string, value: unknown): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new AdminError(AdminErrorCode.InvalidRequest, { explanation: `${name} must be true or false.` });
}

export function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new AdminError(AdminErrorCode.InvalidRequest, { explanation: `${name} must be given once, not empty.` });
  return value;
}
