import { crossOriginRefusal, isProtectedPath } from './cross-origin.policy.js';

const PUBLIC = 'https://app.example.com';
const LISTED = new Set(['https://admin.example.com']);

describe('crossOriginRefusal', () => {
  it.each([
    [{}, undefined],
    [{ origin: PUBLIC }, undefined],
    [{ origin: PUBLIC, 'sec-fetch-site': 'same-origin' }, undefined],
    [{ 'sec-fetch-site': 'same-site' }, undefined],
    [{ 'sec-fetch-site': 'none' }, undefined],
    [{ origin: 'https://admin.example.com', 'sec-fetch-site': 'cross-site' }, undefined],
    [{ origin: 'https://evil.example' }, 'Origin https://evil.example is not allowed'],
    [{ origin: 'null' }, 'Origin null is not allowed'],
    [{ origin: 'https://app.example.com.evil.example' }, 'Origin https://app.example.com.evil.example is not allowed'],
    [{ 'sec-fetch-site': 'cross-site' }, 'Sec-Fetch-Site: cross-site'],
    [{ origin: PUBLIC, 'sec-fetch-site': 'cross-site' }, 'Sec-Fetch-Site: cross-site'],
  ])('%j → %s', (headers, expected) => {
    expect(crossOriginRefusal(headers, PUBLIC, LISTED)).toBe(expected);
  });
});

describe('isProtectedPath', () => {
  it.each([
    ['/api', true],
    ['/api/todos/1', true],
    ['/bff/user', true],
    ['/bff/sessions/abc', true],
    ['/bff/login', false],
    ['/bff/callback', false],
    ['/bff/logout', false],
    ['/bff/backchannel-logout', false],
    ['/', false],
    ['/app.js', false],
    ['/apix', false],
  ])('%s → %s', (path, expected) => {
    expect(isProtectedPath(path)).toBe(expected);
  });
});
