import * as client from 'openid-client';

export type IdpFailure = 'unavailable' | 'invalid_grant' | 'invalid_target' | 'rejected' | 'invalid_response';

// openid-client's codes for a provider that answered with a non-OAuth error page, or not in time.
const TRANSPORT_CODES = new Set(['OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_TIMEOUT', 'OAUTH_ABORT']);
// Matched by name, not instanceof: fetch's TypeError may come from another realm (vm contexts, test runners).
const TRANSPORT_ERROR_NAMES = new Set(['TypeError', 'TimeoutError', 'AbortError']);

/**
 * Sorts an openid-client failure: the provider was unreachable or broken (retry later, keep the
 * session), refused the grant, refused the resource asked for (`invalid_target`, RFC 8707 §2: the
 * configuration's fault, which no retry fixes), or answered something that failed validation.
 */
export function classifyIdpFailure(error: unknown): IdpFailure {
  if (error instanceof client.ResponseBodyError) {
    if (error.status >= 500) return 'unavailable';
    if (error.error === 'invalid_target') return 'invalid_target';
    return error.error === 'invalid_grant' ? 'invalid_grant' : 'rejected';
  }
  // A 401 with WWW-Authenticate: the provider did not accept the client's authentication.
  if (error instanceof client.WWWAuthenticateChallengeError) return 'rejected';
  if (isTransportError(error)) return 'unavailable';
  if (error instanceof client.ClientError) {
    // openid-client wraps fetch failures it does not recognise as a ClientError without a code.
    if (TRANSPORT_CODES.has(error.code ?? '') || (error.code === undefined && isTransportError(error.cause))) return 'unavailable';
  }
  return 'invalid_response';
}

/**
 * Whether a failed discovery is worth retrying: the provider unreachable, too slow, or answering
 * 5xx, 408 or 429 (restarting, or behind a proxy whose backend is not up yet). Any other answer (a
 * 404, an HTML page, a document naming another issuer) is the provider saying OIDC_ISSUER is wrong:
 * retrying cannot help, and an orchestrator that restarts the refused process retries anyway.
 */
export function isTransientDiscoveryFailure(error: unknown): boolean {
  if (isTransportError(error)) return true;
  if (!(error instanceof client.ClientError)) return false;
  if (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT' || (error.code === undefined && isTransportError(error.cause)))
    return true;
  const status = statusOf(error.cause);
  return error.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && status !== undefined && (status >= 500 || status === 408 || status === 429);
}

/** The HTTP status of a Response (openid-client's cause for an unexpected status), from any realm. */
function statusOf(value: unknown): number | undefined {
  return typeof value === 'object' && value !== null && 'status' in value && typeof value.status === 'number' ? value.status : undefined;
}

function isTransportError(error: unknown): boolean {
  return TRANSPORT_ERROR_NAMES.has(errorName(error) ?? '');
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string' ? error.name : undefined;
}

/** A short, token-free description of a failure for the log. */
export function describeIdpFailure(error: unknown): string {
  return redactTokenLike(describe(error)).slice(0, MAX_DESCRIPTION);
}

const MAX_DESCRIPTION = 500;
// Runs of token characters (base64url, base64, JWT dots) long enough to be a token or code.
const TOKEN_LIKE = /[A-Za-z0-9_~+/=.-]{20,}/g;

/**
 * An OAuth error and its description are whatever the provider chose to write (RFC 6749 §5.2 allows
 * any printable ASCII), and one may echo the refresh token it refused. Random tokens mix letters and
 * digits; error codes and words (`temporarily_unavailable`, `OAUTH_RESPONSE_IS_NOT_JSON`) do not.
 */
function redactTokenLike(text: string): string {
  return text.replace(TOKEN_LIKE, (run) => (/\d/.test(run) && /[A-Za-z]/.test(run) ? '[redacted]' : run));
}

function describe(error: unknown): string {
  if (error instanceof client.ResponseBodyError) {
    return `${error.status} ${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  }
  if (error instanceof client.AuthorizationResponseError) return `authorization error ${error.error}`;
  if (error instanceof client.WWWAuthenticateChallengeError)
    return `${error.status} ${error.cause.map((challenge) => challenge.parameters.error ?? challenge.scheme).join(', ')}`;
  if (error instanceof Error) {
    const code = 'code' in error && error.code ? ` (${String(error.code)})` : '';
    const causeName = errorName(error.cause);
    const cause = causeName ? `; cause ${causeName}: ${String((error.cause as { message?: unknown }).message)}` : '';
    const status = statusOf(error.cause);
    return `${error.name}: ${error.message}${code}${cause}${status === undefined ? '' : `; HTTP ${status}`}`;
  }
  return 'unknown failure';
}
