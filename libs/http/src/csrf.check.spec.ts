import { CsrfError } from './csrf.error.js';
import { assertCsrfHeader } from './csrf.check.js';

describe('assertCsrfHeader', () => {
  it('accepts X-CSRF: 1', () => {
    expect(() => assertCsrfHeader({ 'x-csrf': '1' })).not.toThrow();
  });

  it.each([
    ['missing', {}],
    ['empty', { 'x-csrf': '' }],
    ['0', { 'x-csrf': '0' }],
    ['true', { 'x-csrf': 'true' }],
    ['padded', { 'x-csrf': ' 1' }],
    ['repeated', { 'x-csrf': ['1', '1'] }],
  ])('refuses a %s header with 403 csrf', (_, headers) => {
    let thrown: unknown;
    try {
      assertCsrfHeader(headers as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CsrfError);
    expect(thrown).toMatchObject({ code: 'csrf', status: 403, message: 'Missing X-CSRF: 1 header.' });
  });
});
