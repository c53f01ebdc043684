/**
 * What a step-up asks of the user's authentication (RFC 9470 §2): one of `acrValues` as the ID token's
 * `acr`, and/or an `auth_time` at most `maxAgeSeconds` ago. Either may be absent; both absent asks nothing.
 */
export interface StepUpRequirement {
  readonly acrValues?: readonly string[];
  readonly maxAgeSeconds?: number;
}

/** Allowance for the provider's clock being ahead of ours when `auth_time` is compared with now. */
const CLOCK_TOLERANCE_SECONDS = 15;

/** Whether validated ID-token claims meet `requirement` at `nowMs`; an absent or malformed claim never does. */
export function satisfiesStepUp(claims: Readonly<Record<string, unknown>>, requirement: StepUpRequirement, nowMs: number): boolean {
  const { acrValues, maxAgeSeconds } = requirement;
  if (acrValues !== undefined && acrValues.length > 0) {
    // Exact string comparison: an acr is a URI or a registered name, never normalised (RFC 9470 §3).
    if (typeof claims.acr !== 'string' || !acrValues.includes(claims.acr)) return false;
  }
  if (maxAgeSeconds !== undefined) {
    const authTime = claims.auth_time;
    if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return false;
    const now = nowMs / 1000;
    if (authTime > now + CLOCK_TOLERANCE_SECONDS || now - authTime > maxAgeSeconds + CLOCK_TOLERANCE_SECONDS) return false;
  }
  return true;
}

/** True when the requirement asks for anything at all. */
export function asksStepUp(requirement: StepUpRequirement): boolean {
  return (requirement.acrValues?.length ?? 0) > 0 || requirement.maxAgeSeconds !== undefined;
}

/**
 * The gateway's login URL that runs the step-up: `/bff/login` with the requirement as `acr_values` and
 * `max_age`, and `returnTo` (default `/`). The SPA may replace `returnTo` with its current path: the login
 * endpoint accepts only a same-origin path, whatever it is given.
 */
export function stepUpLoginUrl(requirement: StepUpRequirement, returnTo = '/'): string {
  const query = new URLSearchParams();
  if (requirement.acrValues && requirement.acrValues.length > 0) query.set('acr_values', requirement.acrValues.join(' '));
  if (requirement.maxAgeSeconds !== undefined) query.set('max_age', String(requirement.maxAgeSeconds));
  query.set('returnTo', returnTo);
  return `/bff/login?${query.toString()}`;
}
