import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';

export enum SessionErrorCode {
  /** No valid session cookie: never logged in, logged out, or the session expired. */
  Unauthenticated = 'unauthenticated',
  /** Redis could not be reached or did not answer in time. */
  StoreUnavailable = 'session_store_unavailable',
  /** A stored record failed to decrypt (tampered, copied under another key, or a key we no longer have). */
  Corrupt = 'session_corrupt',
  /** A listing's `cursor` is not one the gateway handed out. */
  InvalidCursor = 'invalid_cursor',
}

const RESPONSE: Record<SessionErrorCode, { readonly status: number; readonly message: string }> = {
  [SessionErrorCode.Unauthenticated]: { status: 401, message: 'Log in first.' },
  [SessionErrorCode.StoreUnavailable]: { status: 503, message: 'Sessions are temporarily unavailable. Try again shortly.' },
  [SessionErrorCode.Corrupt]: { status: 500, message: 'The session could not be read.' },
  [SessionErrorCode.InvalidCursor]: { status: 400, message: 'The cursor is not valid. Start from the first page.' },
};

export class SessionError extends GatewayError {
  declare readonly code: SessionErrorCode;

  constructor(code: SessionErrorCode, options: GatewayErrorOptions = {}) {
    super(code, RESPONSE[code].status, RESPONSE[code].message, options);
  }
}
