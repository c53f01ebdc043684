import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes route policies raise (status, message and meaning of each: ERROR_CATALOGUE). */
export const PolicyErrorCode = {
  /** The route's `methods` leave this method out; the Allow header lists them. */
  MethodNotAllowed: ErrorCode.MethodNotAllowed,
  /** A condition of the route's `require` does not hold (which one is logged, never sent). */
  Forbidden: ErrorCode.Forbidden,
  /** A session cookie and a bearer token on one request to a `bearer` route. */
  AmbiguousCredentials: ErrorCode.AmbiguousCredentials,
  /** A bearer token that failed verification on a `bearer` route. */
  InvalidToken: ErrorCode.InvalidToken,
  /** A valid bearer token without the route's `bearer.scopes`. */
  InsufficientScope: ErrorCode.InsufficientScope,
} as const;
export type PolicyErrorCode = (typeof PolicyErrorCode)[keyof typeof PolicyErrorCode];

export class PolicyError<C extends PolicyErrorCode = PolicyErrorCode> extends GatewayError<C> {}
