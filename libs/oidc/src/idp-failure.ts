import * as client from 'openid-client';

export type IdpFailure = 'unavailable' | 'invalid_grant' | 'rejected' | 'invalid_response';

const TRANSPORT_CODES = new Set(['OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON']);

/**
 * Sorts an openid-client failure: the provider was unreachable or broken (retry later, keep the
 * session), refused the grant, or answered something that failed validation.
 */
export function classifyIdpFailure(error: unknown): IdpFailure {
  if (error instanceof client.ResponseBodyError) {
    if (error.status >= 500) return 'unavailable';
    return error.error === 'invalid_grant' ? 'invalid_grant' : 'rejected';
  }
  if (error instanceof TypeError) return 'unavailable';
  if (isTimeout(error) || isTimeout((error as { cause?: unknown })?.cause)) return 'unavailable';
  if (error instanceof client.ClientError && TRANSPORT_CODES.has(error.code ?? '')) return 'unavailable';
  return 'invalid_response';
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** A short, token-free description of a failure for the log. */
export function describeIdpFailure(error: unknown): string {
  if (error instanceof client.ResponseBodyError) return `${error.status} ${error.error}`;
  if (error instanceof client.AuthorizationResponseError) return `authorization error ${error.error}`;
  if (error instanceof Error) return `${error.name}: ${error.message}${'code' in error && error.code ? ` (${String(error.code)})` : ''}`;
  return 'unknown failure';
}
