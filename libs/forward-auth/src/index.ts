export { ForwardAuthError, ForwardAuthErrorCode } from './forward-auth.errors.js';
export { ForwardAuthModule } from './forward-auth.module.js';
export { ERROR_HEADER, errorHeaderValue } from './error-header.codec.js';
export { type OriginalRequest, originalRequest } from './original-request.policy.js';
export { TrustedProxies } from './trusted-proxy.policy.js';
