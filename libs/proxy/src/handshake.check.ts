import type { IncomingHttpHeaders } from 'node:http';
import type { ApiRoute } from '#sessiongate/config';
import { CsrfError, crossOriginRefusal } from '#sessiongate/http';
import { ProxyError, ProxyErrorCode } from './proxy.errors.js';

/**
 * What a WebSocket handshake must pass before its session is read, in place of the X-CSRF check: the route
 * takes WebSockets, and the handshake comes from an allowed page. A page cannot add X-CSRF to a handshake,
 * but its browser always sends `Origin` there, which the page cannot forge. Shared by the WebSocket proxy
 * and a forward-auth check of a handshake, so that both judge it alike.
 */
export function assertHandshakeAllowed(
  route: ApiRoute,
  headers: IncomingHttpHeaders,
  publicOrigin: string,
  listedOrigins: ReadonlySet<string>,
): void {
  if (!route.websocket) throw new ProxyError(ProxyErrorCode.UpgradeNotAllowed, { detail: `${route.prefix} has no websocket: true` });
  const refusal = headers.origin === undefined ? 'no Origin header' : crossOriginRefusal(headers, publicOrigin, listedOrigins);
  if (refusal) throw new CsrfError(refusal, 'crossOriginWebSocket');
}
