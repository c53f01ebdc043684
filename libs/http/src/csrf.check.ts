import type { IncomingHttpHeaders } from 'node:http';
import { CsrfError } from './csrf.error.js';

/**
 * A cross-site form post or simple request cannot set a custom header, and a cross-origin fetch that
 * sets one needs a CORS preflight the gateway never grants: so `X-CSRF: 1` proves a same-origin caller.
 */
export function assertCsrfHeader(headers: IncomingHttpHeaders): void {
  const value = headers['x-csrf'];
  if (value !== '1') throw new CsrfError(value === undefined ? 'no X-CSRF header' : 'X-CSRF header is not exactly 1');
}
