export { AdminModule } from './admin.module.js';
export { AdminError, AdminErrorCode } from './admin.errors.js';
export { ADMIN_DOCS_PATH, setupAdminDocs } from './admin-docs.js';
export { requireAdminBearer } from './admin-bearer.hook.js';
export { SessionRevocation } from './session-revocation.service.js';
export { AdminConsoleModule } from './console/admin-console.module.js';
export { CONSOLE_CALLBACK_PATH, CONSOLE_PATH, consoleSite } from './console/admin-console.routes.js';
