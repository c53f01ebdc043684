import * as client from 'openid-client';
import { classifyIdpFailure, describeIdpFailure, isTransientDiscoveryFailure } from './idp-failure.js';

function bodyError(status: number, error: string, description?: string): client.ResponseBodyError {
  const Constructor = client.ResponseBodyError as unknown as new (message: string, options: unknown) => client.ResponseBodyError;
  return new Constructor('server responded with an error', {
    cause: { error, error_description: description },
    response: new Response(null, { status }),
  });
}

function wrapped(cause: unknown, code?: string): client.ClientError {
  const error = new client.ClientError('something went wrong', { cause });
  if (code) error.code = code;
  return error;
}

function challenge(status: number, error: string): client.WWWAuthenticateChallengeError {
  const Constructor = client.WWWAuthenticateChallengeError as unknown as new (
    message: string,
    options: unknown,
  ) => client.WWWAuthenticateChallengeError;
  return new Constructor('server responded with a challenge', {
    cause: [{ scheme: 'basic', parameters: { error } }],
    response: new Response(null, { status, headers: { 'www-authenticate': `Basic error="${error}"` } }),
  });
}

/** A TypeError made in another realm, as fetch's errors are under a vm context: `instanceof` fails. */
function foreignTypeError(): unknown {
  return { name: 'TypeError', message: 'fetch failed' };
}

describe('classifyIdpFailure', () => {
  it.each([
    ['invalid_grant', bodyError(400, 'invalid_grant'), 'invalid_grant'],
    ['another OAuth error', bodyError(401, 'invalid_client'), 'rejected'],
    ['a refused resource indicator', bodyError(400, 'invalid_target'), 'invalid_target'],
    ['a 5xx error body', bodyError(503, 'temporarily_unavailable'), 'unavailable'],
    ['a refused client authentication', challenge(401, 'invalid_client'), 'rejected'],
    ['a network failure', new TypeError('fetch failed'), 'unavailable'],
    ['a timeout', new DOMException('timed out', 'TimeoutError'), 'unavailable'],
    ['a wrapped foreign network failure', wrapped(foreignTypeError()), 'unavailable'],
    ['a non-JSON 5xx page', wrapped(undefined, 'OAUTH_RESPONSE_IS_NOT_CONFORM'), 'unavailable'],
    ['a timeout as openid-client reports it', wrapped(new DOMException('timed out', 'TimeoutError'), 'OAUTH_TIMEOUT'), 'unavailable'],
    ['an aborted request', wrapped(new DOMException('aborted', 'AbortError'), 'OAUTH_ABORT'), 'unavailable'],
    ['a failed claim check', wrapped(new Error('nonce'), 'OAUTH_JWT_CLAIM_COMPARISON_FAILED'), 'invalid_response'],
    ['a bad signature', wrapped(new Error('signature'), 'OAUTH_JWS_SIGNATURE_VERIFICATION_FAILED'), 'invalid_response'],
  ])('sorts %s', (_name, error, expected) => {
    expect(classifyIdpFailure(error)).toBe(expected);
  });

  it('describes a failure without its response body', () => {
    expect(describeIdpFailure(bodyError(400, 'invalid_grant'))).toBe('400 invalid_grant');
    expect(describeIdpFailure(bodyError(400, 'invalid_grant', 'grant request is invalid'))).toBe(
      '400 invalid_grant: grant request is invalid',
    );
    expect(describeIdpFailure(wrapped(foreignTypeError()))).toBe('ClientError: something went wrong; cause TypeError: fetch failed');
  });

  it('redacts token-like values a provider echoes in its error, keeping error codes and words', () => {
    const refreshToken = 'GyFVQyMmMzKpu1Va4Ue-sjvPtuL6s4JAdtHgPcpmB02';
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LTEwMDEifQ.c2lnbmF0dXJlMTIzNDU2Nzg5MA';
    expect(describeIdpFailure(bodyError(400, 'invalid_grant', `refresh token ${refreshToken} is expired`))).toBe(
      '400 invalid_grant: refresh token [redacted] is expired',
    );
    expect(describeIdpFailure(bodyError(400, jwt, `hint ${jwt}, 0123456789abcdef0123456789abcdef`))).toBe(
      '400 [redacted]: hint [redacted], [redacted]',
    );
    expect(
      describeIdpFailure(bodyError(503, 'temporarily_unavailable', 'OAUTH_RESPONSE_IS_NOT_JSON at https://idp.example.com/token')),
    ).toBe('503 temporarily_unavailable: OAUTH_RESPONSE_IS_NOT_JSON at https://idp.example.com/token');
    expect(describeIdpFailure(bodyError(400, 'invalid_request', 'x'.repeat(2000)))).toHaveLength(500);
  });
});

describe('isTransientDiscoveryFailure', () => {
  const status = (code: number) => wrapped(new Response(null, { status: code }), 'OAUTH_RESPONSE_IS_NOT_CONFORM');

  it.each([
    ['a network failure', new TypeError('fetch failed')],
    ['a wrapped foreign network failure', wrapped(foreignTypeError())],
    ['a timeout', wrapped(new DOMException('timed out', 'TimeoutError'), 'OAUTH_TIMEOUT')],
    ['a 502 from a proxy', status(502)],
    ['a 503', status(503)],
    ['a 429', status(429)],
  ])('retries %s', (_name, error) => {
    expect(isTransientDiscoveryFailure(error)).toBe(true);
  });

  it.each([
    ['a 404 (wrong issuer path)', status(404)],
    ['a 401', status(401)],
    ['an HTML page answered 200', wrapped(new Response('<html>'), 'OAUTH_RESPONSE_IS_NOT_JSON')],
    ['another issuer', wrapped({ attribute: 'issuer' }, 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED')],
    ['a document without issuer', wrapped(new Error('issuer'), 'OAUTH_INVALID_RESPONSE')],
  ])('gives up on %s', (_name, error) => {
    expect(isTransientDiscoveryFailure(error)).toBe(false);
  });

  it('names the status of an unexpected answer', () => {
    expect(describeIdpFailure(status(404))).toBe('ClientError: something went wrong (OAUTH_RESPONSE_IS_NOT_CONFORM); HTTP 404');
  });
});
