import { consoleRequireFailure } from './console-require.policy.js';

const admins = { claims: [{ claim: 'groups', path: ['groups'], kind: 'containsAnyOf' as const, values: ['admins', 'Jos\u00e9'] }] };
const nested = {
  claims: [{ claim: 'realm_access.roles', path: ['realm_access', 'roles'], kind: 'containsAnyOf' as const, values: ['operator'] }],
};

describe('consoleRequireFailure', () => {
  it('passes a claim holding one of the values, exactly, after NFC', () => {
    expect(consoleRequireFailure(admins, { groups: ['staff', 'admins'] })).toBeUndefined();
    expect(consoleRequireFailure(admins, { groups: ['Jose\u0301'] })).toBeUndefined();
    expect(consoleRequireFailure(nested, { realm_access: { roles: ['operator'] } })).toBeUndefined();
    expect(consoleRequireFailure(nested, { 'realm_access.roles': ['operator'] })).toBeUndefined();
  });

  it.each([
    [{}, 'require.groups: the claim is missing'],
    [{ groups: 'admins' }, 'require.groups: the claim is not an array'],
    [{ groups: ['Admins', 'admins ', 'admin'] }, 'require.groups: the claim holds none of the listed values'],
    [{ groups: [['admins']] }, 'require.groups: the claim holds none of the listed values'],
  ])('refuses %j', (claims, failure) => {
    expect(consoleRequireFailure(admins, claims)).toBe(failure);
  });

  it('never follows the prototype chain', () => {
    const proto = {
      claims: [{ claim: 'constructor.name', path: ['constructor', 'name'], kind: 'containsAnyOf' as const, values: ['Object'] }],
    };
    expect(consoleRequireFailure(proto, {})).toBe('require.constructor.name: the claim is missing');
  });
});
