import type { RoutePolicy } from '#sessiongate/config';
import { type Claims, claimsFailure, scopeFailure } from './claims.policy.js';
import { PolicyError, PolicyErrorCode } from './policy.errors.js';

/** 403 forbidden unless every claim condition of `policy` holds on `sources` (the first source having a claim decides). */
export function assertClaims(policy: RoutePolicy | undefined, sources: readonly Claims[]): void {
  const failure = claimsFailure(policy, sources);
  if (failure !== undefined) throw new PolicyError(PolicyErrorCode.Forbidden, { detail: failure });
}

/** 403 forbidden unless the route's token was granted every scope `policy` requires. */
export function assertScope(policy: RoutePolicy | undefined, granted: ReadonlySet<string>): void {
  const failure = scopeFailure(policy, granted);
  if (failure !== undefined) throw new PolicyError(PolicyErrorCode.Forbidden, { detail: failure });
}
