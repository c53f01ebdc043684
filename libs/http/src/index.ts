export { assertCsrfHeader } from './csrf.check.js';
export { CsrfError } from './csrf.error.js';
export { crossOriginHook, crossOriginRefusal } from './cross-origin.policy.js';
export { HttpPolicyModule } from './http-policy.module.js';
export { SessionCookies } from './session.cookies.js';
export { expiredCookie, readCookie, serializeCookie, type CookieOptions } from './cookie.codec.js';
