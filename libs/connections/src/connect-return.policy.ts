import type { IncomingHttpHeaders } from 'node:http';
import { safeReturnTo } from '#sessiongate/bff';

/**
 * Where a `connection_required` answer's connectUrl brings the browser back to: the page that made the
 * call (its Referer, when it is one of the gateway's own pages), through the login's return-to policy.
 */
export function refererReturnTo(headers: IncomingHttpHeaders, publicOrigin: string): string {
  const referer = headers.referer;
  if (typeof referer !== 'string') return '/';
  let url: URL;
  try {
    url = new URL(referer);
  } catch {
    return '/';
  }
  return url.origin === publicOrigin ? safeReturnTo(`${url.pathname}${url.search}`) : '/';
}
