export { Clock } from './session.clock.js';
export { SessionError, SessionErrorCode } from './session.errors.js';
export { SessionModule } from './session.module.js';
export { SessionService, type NewSession, type PendingPurpose, type TokenUpdate } from './session.service.js';
export { SessionEndListeners, type SessionEndListener } from './session-end.listeners.js';
export { UserVault, type Vaulted } from './user.vault.js';
export { UserVaultStore, type VaultRecord } from './stores/user-vault.store.js';
export { SessionDirectory, type ListOptions, type OwnerFilter } from './session.directory.js';
export { pageQuery, type PageLimits, type PageQuery } from './page.query.js';
export { SessionAudit, type AuditEvent, type AuditEventPage, type RecordedAuditEvent } from './session.audit.js';
export { openSessionDirectory, type OpenedSessionDirectory } from './open-session-directory.js';
export { RateCounter } from './rate.counter.js';
export { LogoutTokenReplayGuard } from './logout-token.replay-guard.js';
export { StoreBackend, type StoreKind } from './stores/store.backend.js';
export { SessionRecordStore } from './stores/session-record.store.js';
export { PendingLoginStore } from './stores/pending-login.store.js';
export { RefreshLockStore } from './stores/refresh-lock.store.js';
export { RateCounterStore, type HitCount } from './stores/rate-counter.store.js';
export { UsedLogoutTokenStore } from './stores/used-logout-token.store.js';
export { AuditTrailStore, type AuditFilter } from './stores/audit-trail.store.js';
export type {
  AccessToken,
  ConnectionGrant,
  PendingLogin,
  RevokedSession,
  Session,
  SessionData,
  SessionPage,
  SessionSummary,
  TokenSet,
} from './session.types.js';
export { audienceKey } from './audience-key.js';
export { sessionKeyHash } from './session.ids.js';
export { Requires } from './requires.decorator.js';
export { CallerSession, RouteGuard } from './route.guard.js';
export type { RouteRequirements } from './route-requirements.js';
export { SessionCookieReader } from './session-cookie.reader.js';
