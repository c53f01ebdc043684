/**
 * What a /bff route needs before its handler runs, declared with `@Requires` and checked by RouteGuard in
 * this order (docs/REQUEST-PIPELINE.md). The next checks (a route policy: scopes, step-up per RFC 9470;
 * a bearer caller beside the cookie session) are new fields here, read by the same guard.
 */
export interface RouteRequirements {
  /** `X-CSRF: 1` (assertCsrfHeader), 403 csrf without it: every route a page calls to read or act on the session. */
  readonly csrf: boolean;
  /** `required`: 401 unauthenticated without a live session; `optional`: the session when there is one. */
  readonly session: 'required' | 'optional';
  /** The query parameter `slide=false` reads the session without sliding its idle expiry (for SPAs that poll). */
  readonly slideOptional?: boolean;
}

/** The metadata key RouteGuard reads. */
export const ROUTE_REQUIREMENTS = 'sessiongate:route-requirements';
