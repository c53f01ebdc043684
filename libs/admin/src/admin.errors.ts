import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes the admin API raises (status, message and meaning of each: ERROR_CATALOGUE). */
export const AdminErrorCode = {
  InvalidToken: ErrorCode.InvalidToken,
  InsufficientScope: ErrorCode.InsufficientScope,
  SessionNotFound: ErrorCode.SessionNotFound,
  InvalidRequest: ErrorCode.InvalidRequest,
} as const;
export type AdminErrorCode = (typeof AdminErrorCode)[keyof typeof AdminErrorCode];

export class AdminError<C extends AdminErrorCode = AdminErrorCode> extends GatewayError<C> {}
