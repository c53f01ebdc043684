import { GatewayError, type GatewayErrorOptions } from '#sessiongate/observability';

export enum ProxyErrorCode {
  /** No configured route has a prefix that the path starts with (on a segment boundary). */
  NoRoute = 'no_route',
  /** The path could leave the route's base path upstream (dot segments, encoded separators, control characters). */
  BadPath = 'bad_path',
  /** A request body held for a possible retry did not have the length its Content-Length declared. */
  BadBody = 'bad_body',
  /** The request body is larger than the route's maxBodyBytes. */
  PayloadTooLarge = 'payload_too_large',
  /** The upstream could not be reached, refused or dropped the connection, or did not connect in time. */
  UpstreamUnavailable = 'upstream_unavailable',
  /** The upstream did not send its response headers in time. */
  UpstreamTimeout = 'upstream_timeout',
  /** An upgrade other than a WebSocket handshake, or one to a route without `websocket: true`. */
  UpgradeNotAllowed = 'upgrade_not_allowed',
  /** The gateway is shutting down and opens no more WebSockets. */
  ShuttingDown = 'shutting_down',
}

const RESPONSE: Record<ProxyErrorCode, { status: number; message: string }> = {
  [ProxyErrorCode.NoRoute]: { status: 404, message: 'No API is configured at this path.' },
  [ProxyErrorCode.BadPath]: { status: 400, message: 'The request path is not accepted.' },
  [ProxyErrorCode.BadBody]: { status: 400, message: 'The request body does not match its Content-Length.' },
  [ProxyErrorCode.PayloadTooLarge]: { status: 413, message: 'The request body is larger than this API accepts.' },
  [ProxyErrorCode.UpstreamUnavailable]: { status: 502, message: 'The API could not be reached.' },
  [ProxyErrorCode.UpstreamTimeout]: { status: 504, message: 'The API did not answer in time.' },
  [ProxyErrorCode.UpgradeNotAllowed]: { status: 400, message: 'This API does not accept WebSocket connections.' },
  [ProxyErrorCode.ShuttingDown]: { status: 503, message: 'The gateway is restarting. Try again shortly.' },
};

export class ProxyError extends GatewayError {
  constructor(
    readonly proxyCode: ProxyErrorCode,
    options: GatewayErrorOptions = {},
  ) {
    super(proxyCode, RESPONSE[proxyCode].status, RESPONSE[proxyCode].message, options);
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
