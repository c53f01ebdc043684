import { bearerCallers, httpMethods, routePolicy } from './route-policy.options.js';

describe('routePolicy', () => {
  it('reads claim conditions and scope', () => {
    expect(
      routePolicy({
        email_verified: true,
        acr: { anyOf: ['urn:mfa', 'urn:hwk'] },
        'realm_access.roles': { containsAnyOf: ['admin'] },
        scope: 'todos:read todos:write',
      }),
    ).toEqual({
      claims: [
        { claim: 'email_verified', path: ['email_verified'], kind: 'equals', values: [true] },
        { claim: 'acr', path: ['acr'], kind: 'equals', values: ['urn:mfa', 'urn:hwk'] },
        { claim: 'realm_access.roles', path: ['realm_access', 'roles'], kind: 'containsAnyOf', values: ['admin'] },
      ],
      scope: ['todos:read', 'todos:write'],
    });
    expect(routePolicy({ scope: ['a', 'b'] }).scope).toEqual(['a', 'b']);
  });

  it('holds strings NFC-normalised', () => {
    expect(routePolicy({ name: 'Jose\u0301' }).claims[0]?.values).toEqual(['Jos\u00e9']);
  });

  it.each([
    [[], 'must be an object of claim conditions'],
    [{ groups: ['ops'] }, 'must be a string, a number, true or false, { "anyOf": [...] } or { "containsAnyOf": [...] }'],
    [{ groups: { contains: ['ops'] } }, 'must be a string'],
    [{ groups: { anyOf: ['a'], containsAnyOf: ['b'] } }, 'must be a string'],
    [{ groups: { containsAnyOf: [] } }, 'must be a non-empty array'],
    [{ groups: { containsAnyOf: [['a']] } }, 'must be a non-empty array'],
    [{ groups: null }, 'must be a string'],
    [{ 'a..b': 'x' }, 'is not a claim name'],
    [{ scope: 'a "b"' }, 'must be scope tokens'],
    [{ scope: [] }, 'must be scope tokens'],
  ])('refuses %j', (value, message) => {
    expect(() => routePolicy(value)).toThrow(message);
  });
});

describe('httpMethods and bearerCallers', () => {
  it('reads upper-case methods, each once', () => {
    expect(httpMethods(['GET', 'HEAD'])).toEqual(['GET', 'HEAD']);
    expect(httpMethods(undefined)).toBeUndefined();
    for (const bad of [[], ['get'], ['TRACE'], ['GET', 'GET'], 'GET']) expect(() => httpMethods(bad)).toThrow();
  });

  it('reads bearer callers: an audience, scopes, asymmetric algorithms', () => {
    expect(bearerCallers({ audience: 'https://api', scopes: ['a'] })).toEqual({
      audience: 'https://api',
      scopes: ['a'],
      algorithms: ['RS256'],
    });
    expect(() => bearerCallers({ scopes: ['a'] })).toThrow('must be a non-empty string');
    expect(() => bearerCallers({ audience: 'x', algorithms: ['HS256'] })).toThrow('must be a non-empty array of RS256');
    expect(() => bearerCallers({ audience: 'x', algorithms: ['none'] })).toThrow();
    expect(() => bearerCallers({ audience: 'x', issuer: 'y' })).toThrow('is not a key of bearer');
  });
});
