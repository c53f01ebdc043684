import type { ApiRoute } from '#sessiongate/config';
import { StepUpError } from './step-up.errors.js';
import { asksStepUp, type StepUpRequirement, satisfiesStepUp } from './step-up.policy.js';

/** What a route of API_ROUTES asks of the session's authentication (its `acr` and `maxAge` keys), or undefined. */
export function routeStepUp(route: Pick<ApiRoute, 'acr' | 'maxAge'>): StepUpRequirement | undefined {
  const requirement = {
    ...(route.acr !== undefined ? { acrValues: route.acr } : {}),
    ...(route.maxAge !== undefined ? { maxAgeSeconds: route.maxAge } : {}),
  };
  return asksStepUp(requirement) ? requirement : undefined;
}

/**
 * Route policy, step-up (docs/REQUEST-PIPELINE.md step 6): 401 `step_up_required` unless the session's
 * ID-token claims meet the route's requirement. Runs before a token is fetched, so the API is never called.
 */
export function assertRouteStepUp(claims: Readonly<Record<string, unknown>>, route: Pick<ApiRoute, 'acr' | 'maxAge'>, nowMs: number): void {
  const requirement = routeStepUp(route);
  if (requirement !== undefined && !satisfiesStepUp(claims, requirement, nowMs)) {
    throw StepUpError.required(requirement, 'the session does not meet the route acr/maxAge');
  }
}

/**
 * The same requirement for a bearer caller (a `bearer` route), judged on its access token's claims: 401
 * `insufficient_user_authentication` with the RFC 9470 §3 challenge, since it has no session to step up.
 */
export function assertCallerStepUp(
  claims: Readonly<Record<string, unknown>>,
  route: Pick<ApiRoute, 'acr' | 'maxAge'>,
  nowMs: number,
): void {
  const requirement = routeStepUp(route);
  if (requirement !== undefined && !satisfiesStepUp(claims, requirement, nowMs)) {
    throw StepUpError.insufficient(requirement, "the bearer caller's token does not meet the route acr/maxAge");
  }
}
