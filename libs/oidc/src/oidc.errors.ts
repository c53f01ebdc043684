import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes the OIDC capability raises (status, message and meaning of each: ERROR_CATALOGUE). */
export const OidcErrorCode = {
  LoginExpired: ErrorCode.LoginExpired,
  InvalidState: ErrorCode.InvalidState,
  IdpError: ErrorCode.IdpError,
  TokenExchangeFailed: ErrorCode.TokenExchangeFailed,
  InvalidIdToken: ErrorCode.InvalidIdToken,
  RefreshRejected: ErrorCode.RefreshRejected,
  IdpUnavailable: ErrorCode.IdpUnavailable,
  DpopNotBound: ErrorCode.DpopNotBound,
  ExchangeRefused: ErrorCode.ExchangeRefused,
  ResourceRefused: ErrorCode.ResourceRefused,
} as const;
export type OidcErrorCode = (typeof OidcErrorCode)[keyof typeof OidcErrorCode];

/** The Retry-After of a provider that is down or did not answer in time. */
const IDP_RETRY_AFTER_SECONDS = 5;

export class OidcError<C extends OidcErrorCode = OidcErrorCode> extends GatewayError<C> {
  /** 503 `idp_unavailable` with Retry-After; `detail` says what failed, for the log. */
  static idpUnavailable(detail: string): OidcError<typeof OidcErrorCode.IdpUnavailable> {
    return new OidcError(OidcErrorCode.IdpUnavailable, { detail, retryAfterSeconds: IDP_RETRY_AFTER_SECONDS });
  }
}
