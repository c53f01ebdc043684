import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';

export enum AdminErrorCode {
  /** No bearer token, or one that failed verification (signature, algorithm, issuer, audience, expiry). */
  InvalidToken = 'invalid_token',
  /** A valid token without the required scope or role (ADMIN_REQUIRED_SCOPE). */
  InsufficientScope = 'insufficient_scope',
  /** No session with this public id. */
  SessionNotFound = 'session_not_found',
  /** A malformed query parameter (e.g. `limit`). */
  InvalidRequest = 'invalid_request',
}

const RESPONSE: Record<AdminErrorCode, { readonly status: number; readonly message: string }> = {
  [AdminErrorCode.InvalidToken]: { status: 401, message: 'A valid admin bearer token is required.' },
  [AdminErrorCode.InsufficientScope]: { status: 403, message: 'The token lacks the scope or role this API requires.' },
  [AdminErrorCode.SessionNotFound]: { status: 404, message: 'No such session.' },
  [AdminErrorCode.InvalidRequest]: { status: 400, message: 'The request is not valid.' },
};

export class AdminError extends GatewayError {
  declare readonly code: AdminErrorCode;

  constructor(code: AdminErrorCode, options: GatewayErrorOptions & { readonly message?: string } = {}) {
    super(code, RESPONSE[code].status, options.message ?? RESPONSE[code].message, options);
  }
}
