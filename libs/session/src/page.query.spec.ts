import { pageQuery } from './page.query.js';

const LIMITS = { defaultLimit: 50, maxLimit: 500 };
const invalid = (message: string) => new RangeError(message);

describe('pageQuery', () => {
  it('defaults the limit and passes the cursor through', () => {
    expect(pageQuery({ cursor: undefined, limit: undefined }, LIMITS, invalid)).toEqual({ cursor: undefined, limit: 50 });
    expect(pageQuery({ cursor: 'abc', limit: '500' }, LIMITS, invalid)).toEqual({ cursor: 'abc', limit: 500 });
  });

  it.each([['0'], ['501'], ['ten'], ['1.5'], ['-1'], [['1', '2']], ['']])('refuses limit=%j with the bounds in the message', (limit) => {
    expect(() => pageQuery({ cursor: undefined, limit }, LIMITS, invalid)).toThrow(
      new RangeError('limit must be a whole number from 1 to 500.'),
    );
  });

  it('refuses an empty or repeated cursor', () => {
    expect(() => pageQuery({ cursor: '', limit: undefined }, LIMITS, invalid)).toThrow(RangeError);
    expect(() => pageQuery({ cursor: ['a', 'b'], limit: undefined }, LIMITS, invalid)).toThrow(RangeError);
  });
});
