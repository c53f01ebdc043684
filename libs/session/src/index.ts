export { Clock } from './session.clock.js';
export { SessionError, SessionErrorCode } from './session.errors.js';
export { SessionModule } from './session.module.js';
export { SessionService, type NewSession, type TokenUpdate } from './session.service.js';
export { SessionDirectory, type ListOptions, type OwnerFilter } from './session.directory.js';
export { pageQuery, type PageLimits, type PageQuery } from './page.query.js';
export { SessionAudit, type AuditEvent } from './session.audit.js';
export { openSessionDirectory, type OpenedSessionDirectory } from './open-session-directory.js';
export { SessionStore, type HitCount, type SessionStoreKind } from './session.store.js';
export { RateCounter } from './rate.counter.js';
export type {
  AccessToken,
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
