import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes the admin API raises (status, message and meaning of each: ERROR_CATALOGUE). */
export const AdminErrorCode = {
  InvalidToken: ErrorCode.InvalidToken,
  InsufficientScope: ErrorCode.InsufficientScope,
  SessionNotFound: ErrorCode.SessionNotFound,
  InvalidRequest: ErrorCode.InvalidRequest,
  /** The console's operator does not meet ADMIN_CONSOLE_REQUIRE. */
  NotAdmin: ErrorCode.NotAdmin,
  /** The console's login and callback share the /bff limits' settings. */
  RateLimited: ErrorCode.RateLimited,
} as const;
export type AdminErrorCode = (typeof AdminErrorCode)[keyof typeof AdminErrorCode];

export class AdminError<C extends AdminErrorCode = AdminErrorCode> extends GatewayError<C> {}
