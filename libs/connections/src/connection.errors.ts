import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes the connections capability raises (status, message and meaning of each: ERROR_CATALOGUE). */
export const ConnectionErrorCode = {
  ConnectionRequired: ErrorCode.ConnectionRequired,
  ConnectionNotFound: ErrorCode.ConnectionNotFound,
  ConnectExpired: ErrorCode.ConnectExpired,
  ConnectInvalidState: ErrorCode.ConnectInvalidState,
  ConnectRefused: ErrorCode.ConnectRefused,
  ConnectionUnavailable: ErrorCode.ConnectionUnavailable,
} as const;
export type ConnectionErrorCode = (typeof ConnectionErrorCode)[keyof typeof ConnectionErrorCode];

/** The Retry-After of a third-party provider that is down or did not answer in time. */
const RETRY_AFTER_SECONDS = 5;

export class ConnectionError<C extends ConnectionErrorCode = ConnectionErrorCode> extends GatewayError<C> {
  /** 401 `connection_required`, with the URL that starts the connection and brings the browser back to `returnTo`. */
  static required(name: string, returnTo: string, detail: string): ConnectionError {
    const connectUrl = `/bff/connect/${name}?returnTo=${encodeURIComponent(returnTo)}`;
    return new ConnectionError(ConnectionErrorCode.ConnectionRequired, { detail, body: { connectUrl } });
  }

  static unavailable(detail: string): ConnectionError {
    return new ConnectionError(ConnectionErrorCode.ConnectionUnavailable, { detail, retryAfterSeconds: RETRY_AFTER_SECONDS });
  }
}
