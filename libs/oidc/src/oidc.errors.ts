import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';

export enum OidcErrorCode {
  /** No pending login for this browser: never started, expired, or already used. */
  LoginExpired = 'login_expired',
  /** The `state` (or `iss`) returned to the callback does not match the pending login. */
  InvalidState = 'invalid_state',
  /** The provider answered the authorization request with `error=`. */
  IdpError = 'idp_error',
  /** The provider refused to exchange the authorization code. */
  TokenExchangeFailed = 'token_exchange_failed',
  /** The ID token (or the token response) failed validation. */
  InvalidIdToken = 'invalid_id_token',
  /** The provider refused a refresh token (`invalid_grant`): the session cannot go on. */
  RefreshRejected = 'refresh_rejected',
  /** The provider could not be reached, timed out, or answered 5xx. */
  IdpUnavailable = 'idp_unavailable',
}

const STATUS: Record<OidcErrorCode, number> = {
  [OidcErrorCode.LoginExpired]: 400,
  [OidcErrorCode.InvalidState]: 400,
  [OidcErrorCode.IdpError]: 400,
  [OidcErrorCode.TokenExchangeFailed]: 400,
  [OidcErrorCode.InvalidIdToken]: 400,
  [OidcErrorCode.RefreshRejected]: 401,
  [OidcErrorCode.IdpUnavailable]: 503,
};

export class OidcError extends GatewayError {
  constructor(
    readonly oidcCode: OidcErrorCode,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(oidcCode, STATUS[oidcCode], message, options);
  }
}
