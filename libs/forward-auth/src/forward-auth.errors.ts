import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';

export enum ForwardAuthErrorCode {
  /** The check did not come from a TRUST_PROXY address: only the ingress may ask, as its yes carries a token. */
  UntrustedProxy = 'untrusted_proxy',
  /** The check names no original request, names it two ways, or names one that /api would not serve. */
  BadOriginalRequest = 'bad_original_request',
}

const RESPONSE: Record<ForwardAuthErrorCode, { status: number; message: string }> = {
  [ForwardAuthErrorCode.UntrustedProxy]: { status: 403, message: 'This endpoint answers only the ingress.' },
  [ForwardAuthErrorCode.BadOriginalRequest]: { status: 400, message: 'The request to check is missing or malformed.' },
};

export class ForwardAuthError extends GatewayError {
  constructor(
    readonly forwardAuthCode: ForwardAuthErrorCode,
    options: GatewayErrorOptions = {},
  ) {
    super(forwardAuthCode, RESPONSE[forwardAuthCode].status, RESPONSE[forwardAuthCode].message, options);
  }
}
