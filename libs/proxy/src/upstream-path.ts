import type { ApiRoute } from '#sessiongate/config';
import { ProxyError, ProxyErrorCode } from './proxy.errors.js';

export interface UpstreamTarget {
  readonly route: ApiRoute;
  /** Request target (path and query) to send to the route's target origin. */
  readonly path: string;
}

// Raw space and "#" never belong in a path the browser sent; the rest are refused in decoded form too.
const RAW_ONLY_FORBIDDEN = /[ #]/;
// Controls (NUL, CR, LF...), and "\" and "/" which servers may take for a separator once decoded.
const FORBIDDEN = /[\x00-\x1f\x7f\\/]/;
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const ESCAPE = /%([0-9A-Fa-f]{2})/g;
// ".." and "." also with a ";param" suffix, which servlet containers strip before resolving dot segments.
const DOT_SEGMENT = /^\.\.?(?:;|$)/;

/**
 * Maps a request target under `/api` to its upstream, or refuses it. The longest route prefix that
 * the path starts with on a segment boundary wins. `<prefix>` maps to the target's path exactly as
 * configured, `<prefix>/rest` to that path (without a trailing slash) followed by `/rest`, forwarded
 * as received, never decoded; the query string is passed on unchanged.
 *
 * Rather than normalise, any path that could resolve outside the target's path is refused: dot
 * segments (also percent-encoded, double-encoded or with `;`), encoded slashes, backslashes, control
 * characters, malformed escapes and empty segments. A browser normalises dot segments before sending,
 * so the SPA never sends one.
 */
export function resolveUpstream(routes: readonly ApiRoute[], url: string): UpstreamTarget {
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = queryStart === -1 ? '' : url.slice(queryStart);
  const route = longestPrefixRoute(routes, path);
  if (route === undefined) throw new ProxyError(ProxyErrorCode.NoRoute);
  const rest = path.slice(route.prefix.length);
  if (!staysInside(rest)) throw new ProxyError(ProxyErrorCode.BadPath, { detail: `refused path under ${route.prefix}` });
  const base = route.target.pathname;
  return { route, path: (rest === '' ? base : (base.endsWith('/') ? base.slice(0, -1) : base) + rest) + query };
}

function longestPrefixRoute(routes: readonly ApiRoute[], path: string): ApiRoute | undefined {
  let match: ApiRoute | undefined;
  for (const route of routes) {
    const matches = path === route.prefix || path.startsWith(`${route.prefix}/`);
    if (matches && route.prefix.length > (match?.prefix.length ?? 0)) match = route;
  }
  return match;
}

/**
 * `rest` is `''` or starts with `/`. A trailing slash is the only empty segment allowed. Walked
 * segment by segment without arrays or closures: it runs on every proxied request.
 */
function staysInside(rest: string): boolean {
  if (rest === '') return true;
  if (RAW_ONLY_FORBIDDEN.test(rest) || MALFORMED_ESCAPE.test(rest)) return false;
  for (let start = 1; ; ) {
    const end = rest.indexOf('/', start);
    if (end === -1) return isPlainSegment(rest.slice(start));
    if (end === start || !isPlainSegment(rest.slice(start, end))) return false;
    start = end + 1;
  }
}

/** Checked raw, decoded once and decoded twice: an upstream, or a framework in front of it, may decode again. */
function isPlainSegment(segment: string): boolean {
  if (!isPlainText(segment)) return false;
  // Without an escape, decoding changes nothing.
  if (!segment.includes('%')) return true;
  const once = percentDecode(segment);
  return isPlainText(once) && isPlainText(percentDecode(once));
}

function isPlainText(text: string): boolean {
  return !DOT_SEGMENT.test(text) && !FORBIDDEN.test(text);
}

/** Byte-wise: every character checked here is ASCII, and UTF-8 never encodes ASCII in other bytes. */
function percentDecode(text: string): string {
  return text.replace(ESCAPE, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
