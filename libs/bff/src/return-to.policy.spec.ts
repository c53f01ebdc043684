import fc from 'fast-check';
import { safeReturnTo } from './return-to.policy.js';

describe('safeReturnTo', () => {
  it.each([
    ['/', '/'],
    ['/todos', '/todos'],
    ['/todos?filter=open#top', '/todos?filter=open#top'],
    ['/a/../b', '/b'],
    // An encoded slash is not a path separator to the browser: this stays on our origin.
    ['/%2F/evil.example/..', '/%2F/'],
  ])('keeps the same-origin path %s', (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });

  it.each([
    '//evil.example',
    '///evil.example',
    'https://evil.example',
    'http:evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\u0000',
    'javascript:alert(1)',
    'evil.example',
    '',
    ' /todos',
    '/.//evil.example',
    `/${'a'.repeat(5000)}`,
  ])('falls back to / for attack #%#', (input) => {
    expect(safeReturnTo(input)).toBe('/');
  });

  it('falls back to / for non-strings', () => {
    expect(safeReturnTo(undefined)).toBe('/');
    expect(safeReturnTo(['/a', '/b'])).toBe('/');
  });

  it('never yields anything a browser would resolve to another origin', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ maxLength: 20 }), (junk, prefix) => {
        for (const candidate of [junk, `/${junk}`, `${prefix}${junk}`, `//${junk}`]) {
          const result = safeReturnTo(candidate);
          expect(result.startsWith('/')).toBe(true);
          expect(result.startsWith('//')).toBe(false);
          expect(new URL(result, 'https://app.example').origin).toBe('https://app.example');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
