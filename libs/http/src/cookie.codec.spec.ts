import fc from 'fast-check';
import { expiredCookie, readCookie, serializeCookie } from './cookie.codec.js';

describe('readCookie', () => {
  it.each([
    ['sg=abc', 'abc'],
    ['a=1; sg=abc; b=2', 'abc'],
    ['a=1;sg=abc;b=2', 'abc'],
    ['  sg = abc  ', 'abc'],
    ['sg="abc"', 'abc'],
    ['sg=', ''],
    ['sg=a=b', 'a=b'],
    ['sg=first; sg=second', 'first'],
    ['garbage; ;;=;=x; sg=abc', 'abc'],
    ['xsg=1; sgx=2; sg=3', '3'],
  ])('reads %j', (header, expected) => {
    expect(readCookie(header, 'sg')).toBe(expected);
  });

  it.each([undefined, '', 'other=1', 'sg', ';;;', 'SG=abc', '=abc'])('finds nothing in %j', (header) => {
    expect(readCookie(header, 'sg')).toBeUndefined();
  });

  it('skips an oversized value', () => {
    expect(readCookie(`sg=${'a'.repeat(4097)}`, 'sg')).toBeUndefined();
    expect(readCookie(`sg=${'a'.repeat(4096)}`, 'sg')).toHaveLength(4096);
    expect(readCookie(`sg=${'a'.repeat(5000)}; sg=ok`, 'sg')).toBe('ok');
  });

  it('never throws on any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 10 }), (header, name) => {
        const value = readCookie(header, name);
        expect(value === undefined || typeof value === 'string').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('serializeCookie', () => {
  it('writes Path=/, HttpOnly, Secure and SameSite, and no Domain', () => {
    const header = serializeCookie('__Host-sg', 'abc', { maxAgeSeconds: 3600, sameSite: 'strict', secure: true });
    expect(header).toBe('__Host-sg=abc; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict');
    expect(header.toLowerCase()).not.toContain('domain');
  });

  it('writes a browser-session cookie without Max-Age, and no Secure over http', () => {
    expect(serializeCookie('sg', 'abc', { sameSite: 'lax', secure: false, httpOnly: true, path: '/' })).toBe(
      'sg=abc; Path=/; HttpOnly; SameSite=Lax',
    );
  });

  it('refuses names and values a cookie cannot carry', () => {
    expect(() => serializeCookie('s g', 'abc', { sameSite: 'lax', secure: false })).toThrow();
    expect(() => serializeCookie('sg', 'a;b', { sameSite: 'lax', secure: false })).toThrow();
    expect(() => serializeCookie('sg', 'a b', { sameSite: 'lax', secure: false })).toThrow();
  });

  it('reads back what it wrote', () => {
    const header = serializeCookie('sg', 'abc-_123', { sameSite: 'lax', secure: true });
    expect(readCookie(header.split(';')[0], 'sg')).toBe('abc-_123');
  });
});

describe('expiredCookie', () => {
  it('clears with the same attributes, an empty value and Max-Age=0', () => {
    expect(expiredCookie('sg', { sameSite: 'lax', secure: true })).toBe(
      'sg=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    );
  });
});
