import type { ApiRoute } from '#sessiongate/config';
import { PolicyError, PolicyErrorCode } from './policy.errors.js';

/** 405 with Allow (RFC 9110 §15.5.6) unless the route's `methods`, when it has them, list `method`. */
export function assertMethodAllowed(route: ApiRoute, method: string): void {
  if (route.methods === undefined || route.methods.includes(method)) return;
  throw new PolicyError(PolicyErrorCode.MethodNotAllowed, {
    variant: 'route',
    detail: `${method} is not among the methods of ${route.prefix}`,
    headers: { allow: route.methods.join(', ') },
  });
}
