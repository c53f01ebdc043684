import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';

export enum TokenErrorCode {
  /** The refresh token was refused (expired, revoked, reused) or the session has no way to refresh: log in again. */
  SessionExpired = 'session_expired',
  /** Another request or instance is refreshing this session's tokens and did not finish in time. */
  RefreshTimeout = 'refresh_timeout',
}

export class TokenError extends GatewayError {
  constructor(code: TokenErrorCode, status: number, message: string, options: GatewayErrorOptions = {}) {
    super(code, status, message, options);
  }
}

export function sessionExpired(detail: string): TokenError {
  return new TokenError(TokenErrorCode.SessionExpired, 401, 'Your session has ended. Log in again.', { detail });
}

export function refreshTimeout(waitedMs: number): TokenError {
  return new TokenError(TokenErrorCode.RefreshTimeout, 503, 'Your tokens are being refreshed. Try again shortly.', {
    detail: `refresh lock still held after ${waitedMs} ms`,
    headers: { 'retry-after': '1' },
  });
}
