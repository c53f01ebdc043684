import { routePolicy } from '#sessiongate/config';
import { claimsFailure, hasConditions, scopeFailure, scopeWords } from './claims.policy.js';

// Pure logic: the policy as API_ROUTES would hold it, judged on claims as an ID token or bearer JWT carries them.
const policy = (require: Record<string, unknown>) => routePolicy(require);
const holds = (require: Record<string, unknown>, ...sources: Record<string, unknown>[]) => claimsFailure(policy(require), sources);

describe('claimsFailure', () => {
  it('holds with no policy or an empty one', () => {
    expect(claimsFailure(undefined, [{}])).toBeUndefined();
    expect(holds({}, {})).toBeUndefined();
    expect(hasConditions(policy({}))).toBe(false);
    expect(hasConditions(policy({ scope: 'a' }))).toBe(true);
  });

  it('compares single values exactly, with their type', () => {
    expect(holds({ email_verified: true }, { email_verified: true })).toBeUndefined();
    expect(holds({ email_verified: true }, { email_verified: 'true' })).toBe(
      'require.email_verified: the claim is none of the listed values',
    );
    expect(holds({ email_verified: true }, { email_verified: 1 })).toBeDefined();
    expect(holds({ level: 2 }, { level: '2' })).toBeDefined();
    expect(holds({ acr: 'urn:mfa' }, { acr: 'urn:mfa' })).toBeUndefined();
    expect(holds({ acr: 'urn:mfa' }, { acr: 'URN:MFA' })).toBeDefined();
    expect(holds({ acr: 'urn:mfa' }, {})).toBe('require.acr: the claim is missing');
  });

  it('takes any of a list for a single value', () => {
    const rule = { acr: { anyOf: ['urn:mfa', 'urn:hwk'] } };
    expect(holds(rule, { acr: 'urn:hwk' })).toBeUndefined();
    expect(holds(rule, { acr: 'urn:pwd' })).toBeDefined();
  });

  it('fails closed on an array where a single value is expected, and the reverse', () => {
    expect(holds({ acr: { anyOf: ['urn:mfa'] } }, { acr: ['urn:mfa'] })).toBe(
      'require.acr: the claim is not a single string, number or boolean',
    );
    expect(holds({ email: 'bob@example.com' }, { email: ['bob@example.com'] })).toBeDefined();
    expect(holds({ groups: { containsAnyOf: ['ops'] } }, { groups: 'ops' })).toBe('require.groups: the claim is not an array');
    expect(holds({ groups: { containsAnyOf: ['ops'] } }, { groups: { ops: true } })).toBeDefined();
    expect(holds({ acr: 'urn:mfa' }, { acr: { toString: 'urn:mfa' } })).toBeDefined();
    expect(holds({ acr: 'urn:mfa' }, { acr: null })).toBeDefined();
  });

  it('finds an array claim holding any of the listed values, ignoring what is not a value', () => {
    const rule = { groups: { containsAnyOf: ['ops', 'admins'] } };
    expect(holds(rule, { groups: ['staff', 'ops'] })).toBeUndefined();
    expect(holds(rule, { groups: ['staff'] })).toBe('require.groups: the claim holds none of the listed values');
    expect(holds(rule, { groups: [['ops'], { ops: 1 }, null] })).toBeDefined();
    expect(holds(rule, { groups: [] })).toBeDefined();
  });

  it('never matches part of a value: no substrings, prefixes, suffixes or patterns', () => {
    expect(holds({ email: 'bob@example.com' }, { email: 'bob@example.com@evil.com' })).toBeDefined();
    expect(holds({ email: 'bob@example.com' }, { email: 'evil.com@bob@example.com' })).toBeDefined();
    expect(holds({ email: 'bob@example.com' }, { email: 'bob@example.com ' })).toBeDefined();
    expect(holds({ groups: { containsAnyOf: ['ops'] } }, { groups: ['ops-readonly', 'devops', 'OPS'] })).toBeDefined();
    expect(holds({ groups: { containsAnyOf: ['.*'] } }, { groups: ['ops'] })).toBeDefined();
  });

  it('compares after NFC: composed and decomposed forms match, look-alikes do not', () => {
    const composed = 'Jos\u00e9';
    const decomposed = 'Jose\u0301';
    expect(holds({ name: composed }, { name: decomposed })).toBeUndefined();
    expect(holds({ name: decomposed }, { name: composed })).toBeUndefined();
    expect(holds({ groups: { containsAnyOf: [decomposed] } }, { groups: [composed] })).toBeUndefined();
    // Cyrillic а (U+0430) and Latin a; fullwidth ｏps; a zero-width space.
    expect(holds({ groups: { containsAnyOf: ['admins'] } }, { groups: ['\u0430dmins'] })).toBeDefined();
    expect(holds({ groups: { containsAnyOf: ['ops'] } }, { groups: ['\uff4fps'] })).toBeDefined();
    expect(holds({ email: 'bob@example.com' }, { email: 'bob@exam\u200bple.com' })).toBeDefined();
  });

  it('reads nested claims by dotted path, own properties only', () => {
    const keycloak = { realm_access: { roles: ['admin', 'user'] }, resource_access: { todos: { roles: ['reader'] } } };
    expect(holds({ 'realm_access.roles': { containsAnyOf: ['admin'] } }, keycloak)).toBeUndefined();
    expect(holds({ 'resource_access.todos.roles': { containsAnyOf: ['reader'] } }, keycloak)).toBeUndefined();
    expect(holds({ 'resource_access.todos.roles': { containsAnyOf: ['admin'] } }, keycloak)).toBeDefined();
    expect(holds({ 'realm_access.roles': { containsAnyOf: ['admin'] } }, { realm_access: [{ roles: ['admin'] }] })).toBeDefined();
    expect(holds({ 'realm_access.roles': { containsAnyOf: ['admin'] } }, { 'realm_access.roles': 'admin' })).toBeDefined();
    expect(holds({ 'constructor.name': 'Object' }, {})).toBe('require.constructor.name: the claim is missing');
    expect(holds({ 'email.length': 15 }, { email: 'bob@example.com' })).toBeDefined();
    expect(holds({ __proto__: 'x' } as never, JSON.parse('{"__proto__":"x"}'))).toBeUndefined();
  });

  it('reads a top-level claim whose name has dots (namespaced claims) before a path', () => {
    expect(holds({ 'https://example.com/roles': { containsAnyOf: ['ops'] } }, { 'https://example.com/roles': ['ops'] })).toBeUndefined();
  });

  it('asks each source in turn: the first that has the claim decides', () => {
    const rule = { groups: { containsAnyOf: ['ops'] } };
    expect(holds(rule, { sub: 'u' }, { groups: ['ops'] })).toBeUndefined();
    expect(holds(rule, { groups: ['staff'] }, { groups: ['ops'] })).toBeDefined();
  });

  it('requires every condition, and names the first that fails', () => {
    const rule = { email_verified: true, groups: { containsAnyOf: ['ops'] } };
    expect(holds(rule, { email_verified: true, groups: ['ops'] })).toBeUndefined();
    expect(holds(rule, { email_verified: false, groups: ['staff'] })).toMatch(/^require\.email_verified/);
    expect(holds(rule, { email_verified: true, groups: ['staff'] })).toMatch(/^require\.groups/);
  });
});

describe('scopeFailure', () => {
  it('needs every listed scope among those granted', () => {
    expect(scopeFailure(policy({ scope: ['todos:read', 'todos:write'] }), new Set(['todos:read', 'todos:write', 'x']))).toBeUndefined();
    expect(scopeFailure(policy({ scope: 'todos:read todos:write' }), new Set(['todos:read']))).toBe(
      'require.scope: the token was not granted todos:write',
    );
    expect(scopeFailure(policy({ scope: 'todos:read' }), new Set(['todos:read:all']))).toBeDefined();
    expect(scopeFailure(undefined, new Set())).toBeUndefined();
  });

  it('reads scope claims as strings or arrays, nothing else', () => {
    expect(scopeWords('a  b')).toEqual(['a', 'b']);
    expect(scopeWords(['a', 1, 'b'])).toEqual(['a', 'b']);
    expect(scopeWords({ a: 1 })).toEqual([]);
  });
});
