import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes the BFF endpoints raise (status, message and meaning of each: ERROR_CATALOGUE). */
export const BffErrorCode = {
  InvalidLogoutRequest: ErrorCode.InvalidLogoutRequest,
  InvalidLogoutToken: ErrorCode.InvalidLogoutToken,
  SessionNotFound: ErrorCode.SessionNotFound,
  InvalidRequest: ErrorCode.InvalidRequest,
  RateLimited: ErrorCode.RateLimited,
} as const;
export type BffErrorCode = (typeof BffErrorCode)[keyof typeof BffErrorCode];

export class BffError<C extends BffErrorCode = BffErrorCode> extends GatewayError<C> {}
