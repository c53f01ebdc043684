import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';

export enum BffErrorCode {
  /** /bff/logout without the session's own `sid`: a cross-site link cannot log anyone out. */
  InvalidLogoutRequest = 'invalid_logout_request',
  /** A back-channel logout request without a valid, unused logout token. */
  InvalidLogoutToken = 'invalid_logout_token',
  /** None of the caller's sessions has this id (another user's is not found either). */
  SessionNotFound = 'session_not_found',
  /** A malformed query parameter (`limit`, `cursor` of /bff/sessions). */
  InvalidRequest = 'invalid_request',
  /** Too many logins or callbacks from one client address in RATE_LIMIT_WINDOW. */
  RateLimited = 'rate_limited',
}

const STATUS: Record<BffErrorCode, number> = {
  [BffErrorCode.InvalidLogoutRequest]: 400,
  [BffErrorCode.InvalidLogoutToken]: 400,
  [BffErrorCode.SessionNotFound]: 404,
  [BffErrorCode.InvalidRequest]: 400,
  [BffErrorCode.RateLimited]: 429,
};

export class BffError extends GatewayError {
  constructor(code: BffErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(code, STATUS[code], message, options);
  }
}
