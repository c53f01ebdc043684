import { RETRY_MAX_MS, RETRY_MIN_MS, retryDelay } from './retry-backoff.js';

describe('retryDelay', () => {
  it('doubles from about a second, within half and all of each step', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelay(attempt, 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((attempt) => retryDelay(attempt, 0.999_999))).toEqual([1000, 2000, 4000, 8000]);
  });

  it('is capped, however many attempts failed', () => {
    for (const attempt of [6, 7, 50, 10_000]) {
      expect(retryDelay(attempt, 0)).toBe(RETRY_MAX_MS / 2);
      expect(retryDelay(attempt, 0.999_999)).toBe(RETRY_MAX_MS);
    }
  });

  it('spreads instances that failed together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelay(5)));
    expect(delays.size).toBeGreaterThan(1);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(8 * RETRY_MIN_MS);
  });
});
