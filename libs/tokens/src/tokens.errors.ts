import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';

export enum TokenErrorCode {
  /** The refresh token was refused (expired, revoked, reused) or the session has no way to refresh: log in again. */
  SessionExpired = 'session_expired',
}

export class TokenError extends GatewayError {
  constructor(code: TokenErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(code, 401, message, options);
  }
}

export function sessionExpired(detail: string): TokenError {
  return new TokenError(TokenErrorCode.SessionExpired, 'Your session has ended. Log in again.', { detail });
}
