export { BffModule } from './bff.module.js';
export { safeReturnTo } from './return-to.policy.js';
