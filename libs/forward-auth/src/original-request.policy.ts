import type { IncomingHttpHeaders } from 'node:http';
import { HTTP_METHODS } from '#sessiongate/config';
import { ForwardAuthError, ForwardAuthErrorCode } from './forward-auth.errors.js';

/** The browser's request an ingress asks about. */
export interface OriginalRequest {
  readonly method: string;
  /** Its request target (path and query) as the browser sent it, never decoded. */
  readonly target: string;
  /** A WebSocket handshake, judged by its Origin instead of X-CSRF. */
  readonly websocket: boolean;
}

const METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);

/**
 * Reads which request the check is about, in the one form the ingress uses: `X-Original-Method` and
 * `X-Original-URI` (nginx, ingress-nginx), `X-Forwarded-Method` and `X-Forwarded-Uri` (Caddy, Traefik), or
 * the check's own method and its path after the endpoint's (`suffix`, Envoy's ext_authz). Only the caller's
 * address is trusted, not every header it passes on: each ingress sets its own form over the browser's but
 * passes the browser's headers of the other forms through, so a check naming its request in two ways is
 * refused rather than believed one way (a browser's `X-Original-URI` through Caddy would otherwise name
 * another route than the one Caddy forwards to).
 */
export function originalRequest(checkMethod: string, suffix: string, headers: IncomingHttpHeaders): OriginalRequest {
  const original = headers['x-original-uri'] !== undefined || headers['x-original-method'] !== undefined;
  const forwarded = headers['x-forwarded-uri'] !== undefined || headers['x-forwarded-method'] !== undefined;
  const prefixed = suffix !== '';
  if (Number(original) + Number(forwarded) + Number(prefixed) > 1) throw refusal('the request to check is named in more than one form');
  const [method, target] = original
    ? [headers['x-original-method'], headers['x-original-uri']]
    : forwarded
      ? [headers['x-forwarded-method'], headers['x-forwarded-uri']]
      : prefixed
        ? [checkMethod, suffix]
        : [undefined, undefined];
  // Only set-cookie is ever an array in Node's headers; anything else is as absent.
  if (typeof method !== 'string' || typeof target !== 'string') throw refusal('no original method and URI');
  if (!METHODS.has(method)) throw refusal(`method ${method.slice(0, 16)} is not proxied`);
  // Origin-form only (RFC 9112 §3.2.1): an absolute URL would name a host the routes know nothing of.
  if (!target.startsWith('/')) throw refusal('the original URI is not a path');
  return { method, target, websocket: method === 'GET' && isHandshake(headers) };
}

/**
 * A browser sends both on every WebSocket handshake, and a page's script cannot set either on a fetch
 * (`Sec-` names are forbidden request headers): a request with them was not sent by a script to skip X-CSRF.
 */
function isHandshake(headers: IncomingHttpHeaders): boolean {
  return headers['sec-websocket-key'] !== undefined && headers['sec-websocket-version'] === '13';
}

function refusal(detail: string): ForwardAuthError {
  return new ForwardAuthError(ForwardAuthErrorCode.BadOriginalRequest, { detail });
}
