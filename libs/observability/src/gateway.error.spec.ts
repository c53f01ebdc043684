import { ERROR_CATALOGUE, ErrorCode } from './error-catalogue.js';
import { GatewayError } from './gateway.error.js';

describe('GatewayError', () => {
  it('takes its status and client message from the catalogue, the detail apart', () => {
    const error = new GatewayError(ErrorCode.NoRoute, { detail: 'no route under /api/x' });
    expect(error).toMatchObject({ code: 'no_route', status: 404, message: 'No API is configured at this path.', headers: {} });
    expect(error.detail).toBe('no route under /api/x');
  });

  it("answers with one of the code's other wordings when asked", () => {
    expect(new GatewayError(ErrorCode.Csrf, { variant: 'crossOrigin' }).message).toBe('Cross-origin requests are not accepted.');
  });

  it('rounds Retry-After up to a whole second, at least 1', () => {
    expect(new GatewayError(ErrorCode.RateLimited, { retryAfterSeconds: 2.1 }).headers).toEqual({ 'retry-after': '3' });
    expect(new GatewayError(ErrorCode.IdpUnavailable, { retryAfterSeconds: -1 }).headers).toEqual({ 'retry-after': '1' });
  });

  it('takes Retry-After, a variant or an explanation only where the catalogue has them (checked by tsc)', () => {
    // @ts-expect-error no_route's answer never carries Retry-After
    expect(new GatewayError(ErrorCode.NoRoute, { retryAfterSeconds: 1 }).code).toBe('no_route');
    // @ts-expect-error csrf has no such wording
    expect(new GatewayError(ErrorCode.Csrf, { variant: 'otherIssuer' }).message).toBe(ERROR_CATALOGUE.csrf.message);
    // @ts-expect-error only invalid_request's message is the validation's own
    expect(new GatewayError(ErrorCode.BadPath, { explanation: 'path too long' }).code).toBe('bad_path');
  });
});
