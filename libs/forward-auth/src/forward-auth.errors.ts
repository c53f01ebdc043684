import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes the forward-auth endpoint raises itself (status, message and meaning of each: ERROR_CATALOGUE). */
export const ForwardAuthErrorCode = {
  /** Only the ingress may ask, as the yes carries a token. */
  UntrustedProxy: ErrorCode.UntrustedProxy,
  /** No original request named, named two ways, or one /api would not serve. */
  BadOriginalRequest: ErrorCode.BadOriginalRequest,
} as const;
export type ForwardAuthErrorCode = (typeof ForwardAuthErrorCode)[keyof typeof ForwardAuthErrorCode];

export class ForwardAuthError<C extends ForwardAuthErrorCode = ForwardAuthErrorCode> extends GatewayError<C> {}
