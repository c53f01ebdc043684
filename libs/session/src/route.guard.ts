import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { assertCsrfHeader } from '#sessiongate/http';
import { ROUTE_REQUIREMENTS, type RouteRequirements } from './route-requirements.js';
import { SessionCookieReader } from './session-cookie.reader.js';
import { SessionError, SessionErrorCode } from './session.errors.js';
import type { Session } from './session.types.js';

/** The session RouteGuard found, for CallerSession: kept off the request object, whose shape Fastify fixes up front. */
const CALLER_SESSIONS = new WeakMap<FastifyRequest, Session>();

/**
 * Checks what `@Requires` declares, in the order of docs/REQUEST-PIPELINE.md (the cross-origin hook has
 * already run): the CSRF header, then the session; a route policy plugs in after the session.
 */
@Injectable()
export class RouteGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly reader: SessionCookieReader,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const needs = this.reflector.getAllAndOverride<RouteRequirements | undefined>(ROUTE_REQUIREMENTS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (needs === undefined) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (needs.csrf) assertCsrfHeader(request.headers);
    const slide = !(needs.slideOptional && new URL(request.url, 'http://gateway.invalid').searchParams.get('slide') === 'false');
    const session = await this.reader.sessionOf(request.headers, { slide });
    request.sessionPublicId = session?.publicId ?? null;
    if (!session) {
      if (needs.session === 'required') throw new SessionError(SessionErrorCode.Unauthenticated);
      return true;
    }
    // Route policy (scopes, step-up) plugs in here: it needs the session, and refuses before the handler.
    CALLER_SESSIONS.set(request, session);
    return true;
  }
}

/** The caller's session, as RouteGuard read it: a Session on `session: 'required'` routes, else Session or null. */
export const CallerSession = createParamDecorator(
  (_: unknown, context: ExecutionContext): Session | null =>
    CALLER_SESSIONS.get(context.switchToHttp().getRequest<FastifyRequest>()) ?? null,
);
