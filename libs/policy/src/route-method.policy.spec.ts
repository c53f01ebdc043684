import type { ApiRoute } from '#sessiongate/config';
import { bearerTokenOf } from './bearer-token.verifier.js';
import { PolicyError } from './policy.errors.js';
import { assertMethodAllowed } from './route-method.policy.js';

const route = (methods?: readonly string[]) => ({ prefix: '/api/a', methods }) as ApiRoute;

describe('assertMethodAllowed', () => {
  it('lets every method through a route without methods, and the listed ones through a route with them', () => {
    expect(() => assertMethodAllowed(route(), 'DELETE')).not.toThrow();
    expect(() => assertMethodAllowed(route(['GET', 'HEAD']), 'HEAD')).not.toThrow();
  });

  it('refuses the others with 405 and an Allow header listing the route methods', () => {
    let thrown: unknown;
    try {
      assertMethodAllowed(route(['GET', 'HEAD']), 'POST');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyError);
    expect(thrown).toMatchObject({ code: 'method_not_allowed', status: 405, headers: { allow: 'GET, HEAD' } });
    // Compared exactly: a method is a case-sensitive token (RFC 9110 §9.1).
    expect(() => assertMethodAllowed(route(['GET']), 'get')).toThrow(PolicyError);
  });
});

describe('bearerTokenOf', () => {
  it('reads the Bearer scheme, in any case, and nothing else', () => {
    expect(bearerTokenOf({ authorization: 'Bearer abc.def.ghi' })).toBe('abc.def.ghi');
    expect(bearerTokenOf({ authorization: 'bearer  abc' })).toBe('abc');
    expect(bearerTokenOf({ authorization: 'Bearer' })).toBe('');
    expect(bearerTokenOf({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(bearerTokenOf({ authorization: 'Bearerx abc' })).toBeUndefined();
    expect(bearerTokenOf({})).toBeUndefined();
  });
});
