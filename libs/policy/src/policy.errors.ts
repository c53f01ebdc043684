import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';

export enum PolicyErrorCode {
  /** The route does not take this HTTP method (its `methods`); the Allow header lists those it takes. */
  MethodNotAllowed = 'method_not_allowed',
  /** The caller is known but a condition of the route's `require` does not hold (which one is logged, never sent). */
  Forbidden = 'forbidden',
  /** A session cookie and a bearer token on one request to a `bearer` route: which caller it is cannot be told. */
  AmbiguousCredentials = 'ambiguous_credentials',
  /** A bearer token that failed verification (signature, algorithm, issuer, audience, expiry) on a `bearer` route. */
  InvalidToken = 'invalid_token',
  /** A valid bearer token without the scopes the route's `bearer.scopes` lists. */
  InsufficientScope = 'insufficient_scope',
}

const RESPONSE: Record<PolicyErrorCode, { readonly status: number; readonly message: string }> = {
  [PolicyErrorCode.MethodNotAllowed]: { status: 405, message: 'This API does not take this method.' },
  [PolicyErrorCode.Forbidden]: { status: 403, message: 'You may not call this API.' },
  [PolicyErrorCode.AmbiguousCredentials]: { status: 400, message: 'Send either the session cookie or a bearer token, not both.' },
  [PolicyErrorCode.InvalidToken]: { status: 401, message: 'A valid bearer token is required.' },
  [PolicyErrorCode.InsufficientScope]: { status: 403, message: 'The token lacks a scope this API requires.' },
};

/** A refusal by a route's policy (docs/ROUTES.md): what failed is in `detail`, for the log only. */
export class PolicyError extends GatewayError {
  declare readonly code: PolicyErrorCode;

  constructor(code: PolicyErrorCode, options: GatewayErrorOptions = {}) {
    super(code, RESPONSE[code].status, RESPONSE[code].message, options);
  }
}
