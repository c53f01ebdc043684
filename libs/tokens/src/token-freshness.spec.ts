import { isUsable } from './token-freshness.js';

describe('isUsable', () => {
  const token = { value: 'a', expiresAt: 100_000 };

  it('accepts a token outside the refresh window', () => {
    expect(isUsable(token, undefined, 30_000, 69_999)).toBe(true);
  });

  it('refuses a token inside the refresh window or expired', () => {
    expect(isUsable(token, undefined, 30_000, 70_000)).toBe(false);
    expect(isUsable(token, undefined, 0, 100_000)).toBe(false);
  });

  it('refuses the token an API just rejected, however fresh', () => {
    expect(isUsable(token, 'a', 30_000, 0)).toBe(false);
    expect(isUsable(token, 'b', 30_000, 0)).toBe(true);
  });
});
