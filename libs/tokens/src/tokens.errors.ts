import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes the tokens capability raises (status, message and meaning of each: ERROR_CATALOGUE). */
export const TokenErrorCode = {
  SessionExpired: ErrorCode.SessionExpired,
  RefreshTimeout: ErrorCode.RefreshTimeout,
} as const;
export type TokenErrorCode = (typeof TokenErrorCode)[keyof typeof TokenErrorCode];

export class TokenError<C extends TokenErrorCode = TokenErrorCode> extends GatewayError<C> {}

export function sessionExpired(detail: string): TokenError {
  return new TokenError(TokenErrorCode.SessionExpired, { detail });
}

export function refreshTimeout(waitedMs: number): TokenError {
  return new TokenError(TokenErrorCode.RefreshTimeout, {
    detail: `refresh lock still held after ${waitedMs} ms`,
    retryAfterSeconds: 1,
  });
}
