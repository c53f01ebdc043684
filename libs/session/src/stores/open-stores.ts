import type { Logger } from 'pino';
import type { RedisConfig } from '#sessiongate/config';
import type { Clock } from '../session.clock.js';
import type { AuditTrailStore } from './audit-trail.store.js';
import { MemoryAuditTrailStore } from './memory-audit-trail.store.js';
import { MemoryPendingLoginStore } from './memory-pending-login.store.js';
import { MemoryRateCounterStore } from './memory-rate-counter.store.js';
import { MemoryRefreshLockStore } from './memory-refresh-lock.store.js';
import { MemorySessionRecordStore } from './memory-session-record.store.js';
import { MemoryStoreBackend } from './memory-store.backend.js';
import { MemoryUsedLogoutTokenStore } from './memory-used-logout-token.store.js';
import type { PendingLoginStore } from './pending-login.store.js';
import type { RateCounterStore } from './rate-counter.store.js';
import { RedisAuditTrailStore } from './redis-audit-trail.store.js';
import { RedisPendingLoginStore } from './redis-pending-login.store.js';
import { RedisRateCounterStore } from './redis-rate-counter.store.js';
import { RedisRefreshLockStore } from './redis-refresh-lock.store.js';
import { RedisSessionRecordStore } from './redis-session-record.store.js';
import { RedisStoreBackend } from './redis-store.backend.js';
import { RedisUsedLogoutTokenStore } from './redis-used-logout-token.store.js';
import { RedisUserVaultStore } from './redis-user-vault.store.js';
import { MemoryUserVaultStore } from './memory-user-vault.store.js';
import type { UserVaultStore } from './user-vault.store.js';
import type { RefreshLockStore } from './refresh-lock.store.js';
import type { SessionRecordStore } from './session-record.store.js';
import type { StoreBackend } from './store.backend.js';
import type { UsedLogoutTokenStore } from './used-logout-token.store.js';

/** Every store of a gateway, all of one kind: on one backend. */
export interface Stores {
  readonly backend: StoreBackend;
  readonly sessionRecords: SessionRecordStore;
  readonly pendingLogins: PendingLoginStore;
  readonly refreshLocks: RefreshLockStore;
  readonly rateCounters: RateCounterStore;
  readonly usedLogoutTokens: UsedLogoutTokenStore;
  readonly auditTrail: AuditTrailStore;
  readonly userVault: UserVaultStore;
}

/** Every store on one Redis connection, not connected yet (RedisStoreBackend.connect). */
export function redisStores(config: RedisConfig, clock: Clock, logger: Logger): Stores & { readonly backend: RedisStoreBackend } {
  const backend = new RedisStoreBackend(config, logger);
  return {
    backend,
    sessionRecords: new RedisSessionRecordStore(backend, clock),
    pendingLogins: new RedisPendingLoginStore(backend),
    refreshLocks: new RedisRefreshLockStore(backend),
    rateCounters: new RedisRateCounterStore(backend),
    usedLogoutTokens: new RedisUsedLogoutTokenStore(backend),
    auditTrail: new RedisAuditTrailStore(backend),
    userVault: new RedisUserVaultStore(backend),
  };
}

/** Every store in this process's memory. */
export function memoryStores(clock: Clock): Stores {
  return {
    backend: new MemoryStoreBackend(),
    sessionRecords: new MemorySessionRecordStore(clock),
    pendingLogins: new MemoryPendingLoginStore(clock),
    refreshLocks: new MemoryRefreshLockStore(clock),
    rateCounters: new MemoryRateCounterStore(clock),
    usedLogoutTokens: new MemoryUsedLogoutTokenStore(clock),
    auditTrail: new MemoryAuditTrailStore(),
    userVault: new MemoryUserVaultStore(clock),
  };
}
