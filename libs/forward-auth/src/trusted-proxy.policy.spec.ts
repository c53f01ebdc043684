import { TrustedProxies } from './trusted-proxy.policy.js';

describe('TrustedProxies', () => {
  it.each([
    [['loopback'], '127.0.0.1', true],
    [['loopback'], '127.8.9.10', true],
    [['loopback'], '::1', true],
    [['loopback'], '::ffff:127.0.0.1', true],
    [['loopback'], '10.0.0.1', false],
    [['uniquelocal'], '10.1.2.3', true],
    [['uniquelocal'], '172.31.255.255', true],
    [['uniquelocal'], '172.32.0.1', false],
    [['uniquelocal'], 'fd00::1', true],
    [['linklocal'], 'fe80::1', true],
    [['10.0.0.0/8'], '10.200.0.1', true],
    [['10.0.0.0/8'], '11.0.0.1', false],
    [['127.0.0.1'], '127.0.0.1', true],
    [['127.0.0.1'], '127.0.0.2', false],
    [['2001:db8::/32'], '2001:db8::5', true],
    [['2001:db8::/32'], '2001:db9::5', false],
    [[], '127.0.0.1', false],
  ])('%j trusts %s: %s', (entries, peer, trusted) => {
    expect(new TrustedProxies(entries).has(peer)).toBe(trusted);
  });

  it('trusts no peer it cannot name', () => {
    expect(new TrustedProxies(['loopback']).has(undefined)).toBe(false);
    expect(new TrustedProxies(['loopback']).has('localhost')).toBe(false);
  });
});
