export { assertCsrfHeader } from './csrf.check.js';
export { CsrfError } from './csrf.error.js';
export { type CrossOriginAnswer, crossOriginAnswer, crossOriginHook, crossOriginRefusal, isProtectedPath } from './cross-origin.policy.js';
export { HttpPolicyModule } from './http-policy.module.js';
export { SessionCookies } from './session.cookies.js';
export { clientAddress, type ProxyTrust, proxyTrust } from './client-address.policy.js';
export { expiredCookie, readCookie, serializeCookie, type CookieOptions } from './cookie.codec.js';
