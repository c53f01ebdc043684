/** A value a claim is compared with, exactly (a string after NFC normalisation, never as a pattern). */
export type ClaimValue = string | number | boolean;

/**
 * What one claim must be. `equals`: a single-valued claim (string, number, boolean) equal to one of
 * `values`; `containsAnyOf`: an array claim holding one of `values`. Neither kind accepts the other
 * shape of claim: an array where a single value is expected, or the reverse, fails.
 */
export interface ClaimCondition {
  /** The claim's name as configured (`realm_access.roles`), for the log. */
  readonly claim: string;
  /** The name split on dots, read when no top-level claim has the whole name. */
  readonly path: readonly string[];
  readonly kind: 'equals' | 'containsAnyOf';
  /** Strings already NFC-normalised; never empty. */
  readonly values: readonly ClaimValue[];
}

/**
 * A route's `require` (or ROUTES_DEFAULT_REQUIRE): every claim condition must hold on the caller's
 * claims, and the route's access token must have been granted every scope in `scope`.
 * No conditions and no scope: anyone the route's token mode lets in.
 */
export interface RoutePolicy {
  readonly claims: readonly ClaimCondition[];
  readonly scope: readonly string[];
}

/** A route's `bearer`: callers without a session may present a JWT access token for `audience` carrying `scopes`. */
export interface BearerCallers {
  readonly audience: string;
  readonly scopes: readonly string[];
  /** Asymmetric JWS algorithms accepted on the token (default RS256). */
  readonly algorithms: readonly string[];
}
