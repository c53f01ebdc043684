import { refererReturnTo } from './connect-return.policy.js';

const ORIGIN = 'https://app.example.com';

describe('refererReturnTo', () => {
  it.each([
    [undefined, '/'],
    ['not a url', '/'],
    ['https://app.example.com/calendar?week=2#today', '/calendar?week=2'],
    ['https://evil.example/calendar', '/'],
    ['http://app.example.com/calendar', '/'],
    ['https://app.example.com//evil.example/', '/'],
  ])('turns Referer %j into %j', (referer, expected) => {
    expect(refererReturnTo(referer === undefined ? {} : { referer }, ORIGIN)).toBe(expected);
  });
});
