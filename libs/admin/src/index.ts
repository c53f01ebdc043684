export { AdminModule } from './admin.module.js';
export { AdminError, AdminErrorCode } from './admin.errors.js';
export { ADMIN_DOCS_PATH, setupAdminDocs } from './admin-docs.js';
export { requireAdminBearer } from './bearer-precheck.js';
export { SessionRevocation } from './session-revocation.service.js';
