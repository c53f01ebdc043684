import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ROUTE_REQUIREMENTS, type RouteRequirements } from './route-requirements.js';
import { RouteGuard } from './route.guard.js';

/** Declares what a controller or handler needs (CSRF header, session), checked by RouteGuard before it runs. */
export function Requires(requirements: RouteRequirements): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(ROUTE_REQUIREMENTS, requirements), UseGuards(RouteGuard));
}
