import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes the session capability raises (status, message and meaning of each: ERROR_CATALOGUE). */
export const SessionErrorCode = {
  Unauthenticated: ErrorCode.Unauthenticated,
  StoreUnavailable: ErrorCode.SessionStoreUnavailable,
  Corrupt: ErrorCode.SessionCorrupt,
  InvalidCursor: ErrorCode.InvalidCursor,
} as const;
export type SessionErrorCode = (typeof SessionErrorCode)[keyof typeof SessionErrorCode];

export class SessionError<C extends SessionErrorCode = SessionErrorCode> extends GatewayError<C> {}
