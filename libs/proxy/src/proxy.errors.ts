import { ErrorCode, GatewayError } from '#sessiongate/observability';

/** The codes the API proxy raises (status, message and meaning of each: ERROR_CATALOGUE). */
export const ProxyErrorCode = {
  NoRoute: ErrorCode.NoRoute,
  MethodNotAllowed: ErrorCode.MethodNotAllowed,
  BadPath: ErrorCode.BadPath,
  BadBody: ErrorCode.BadBody,
  PayloadTooLarge: ErrorCode.PayloadTooLarge,
  UpstreamUnavailable: ErrorCode.UpstreamUnavailable,
  UpstreamTimeout: ErrorCode.UpstreamTimeout,
  UpgradeNotAllowed: ErrorCode.UpgradeNotAllowed,
  ShuttingDown: ErrorCode.ShuttingDown,
} as const;
export type ProxyErrorCode = (typeof ProxyErrorCode)[keyof typeof ProxyErrorCode];

export class ProxyError<C extends ProxyErrorCode = ProxyErrorCode> extends GatewayError<C> {
  /** The code under the name the proxy's callers read. */
  get proxyCode(): C {
    return this.code;
  }

  /**
   * Classifies a failed upstream call by undici's or the system's error code only: the error's message
   * could quote the upstream, and the upstream's body is never read.
   */
  static fromUpstream(error: unknown, origin: string): ProxyError {
    // Our own refusal of the body (too large) surfaces as the upstream call's failure.
    if (error instanceof ProxyError) return error;
    const code = (error as { code?: unknown }).code ?? (error as Error).name;
    // A connect timeout is an unreachable upstream (502), as UPSTREAM_CONNECT_TIMEOUT_MS documents.
    const proxyCode =
      code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
        ? ProxyErrorCode.UpstreamTimeout
        : ProxyErrorCode.UpstreamUnavailable;
    return new ProxyError(proxyCode, { detail: `${origin}: ${String(code)}`, cause: error });
  }
}
