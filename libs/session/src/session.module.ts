import { Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { HttpPolicyModule } from '#sessiongate/http';
import { LOGGER } from '#sessiongate/observability';
import { LogoutTokenReplayGuard } from './logout-token.replay-guard.js';
import { RateCounter } from './rate.counter.js';
import { SessionAudit } from './session.audit.js';
import { SessionCipher } from './session.cipher.js';
import { SessionCookieReader } from './session-cookie.reader.js';
import { Clock } from './session.clock.js';
import { SessionDirectory } from './session.directory.js';
import { SessionLookups } from './session.lookups.js';
import { SessionService } from './session.service.js';
import { AuditTrailStore } from './stores/audit-trail.store.js';
import { memoryStores, redisStores, type Stores } from './stores/open-stores.js';
import { PendingLoginStore } from './stores/pending-login.store.js';
import { RateCounterStore } from './stores/rate-counter.store.js';
import { RefreshLockStore } from './stores/refresh-lock.store.js';
import { SessionRecordStore } from './stores/session-record.store.js';
import { StoreBackend } from './stores/store.backend.js';
import { UsedLogoutTokenStore } from './stores/used-logout-token.store.js';
import { UserVaultStore } from './stores/user-vault.store.js';
import { SessionEndListeners } from './session-end.listeners.js';
import { UserVault } from './user.vault.js';

const STORES = Symbol('STORES');

/** Each store's provider, taken from the one set of stores openStores chose. */
const STORE_PROVIDERS = (
  [
    [StoreBackend, 'backend'],
    [SessionRecordStore, 'sessionRecords'],
    [PendingLoginStore, 'pendingLogins'],
    [RefreshLockStore, 'refreshLocks'],
    [RateCounterStore, 'rateCounters'],
    [UsedLogoutTokenStore, 'usedLogoutTokens'],
    [AuditTrailStore, 'auditTrail'],
    [UserVaultStore, 'userVault'],
  ] as const
).map(([provide, name]) => ({ provide, inject: [STORES], useFactory: (stores: Stores) => stores[name] }));

/**
 * Server-side sessions, their directory and audit trail, rate counters, refresh locks and used
 * logout tokens, the stores they are kept in, and the session step of a request (RouteGuard,
 * `@Requires`). Needs the global GATEWAY_CONFIG and LOGGER.
 */
@Module({
  imports: [HttpPolicyModule],
  providers: [
    Clock,
    {
      provide: SessionCipher,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig) => new SessionCipher(config.session.encryptionKeys),
    },
    {
      provide: SessionLookups,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig) => new SessionLookups(config.session.indexKey),
    },
    { provide: STORES, inject: [GATEWAY_CONFIG, Clock, LOGGER], useFactory: openStores },
    ...STORE_PROVIDERS,
    SessionService,
    SessionDirectory,
    SessionAudit,
    RateCounter,
    LogoutTokenReplayGuard,
    SessionCookieReader,
    SessionEndListeners,
    UserVault,
  ],
  exports: [
    SessionEndListeners,
    UserVault,
    SessionService,
    SessionDirectory,
    SessionAudit,
    Clock,
    RateCounter,
    LogoutTokenReplayGuard,
    SessionCookieReader,
    ...STORE_PROVIDERS.map(({ provide }) => provide),
  ],
})
export class SessionModule implements OnApplicationShutdown {
  constructor(private readonly backend: StoreBackend) {}

  async onApplicationShutdown(): Promise<void> {
    await this.backend.close();
  }
}

/** The one place the kind of store is chosen: Redis when it is configured, else this process's memory. */
async function openStores(config: GatewayConfig, clock: Clock, logger: Logger): Promise<Stores> {
  if (config.redis === undefined) {
    logger.warn(
      'REDIS_URL is unset: sessions are kept in this process only (lost on restart, not shared between instances). For development only.',
    );
    return memoryStores(clock);
  }
  const stores = redisStores(config.redis, clock, logger);
  // Start even when Redis is down: session requests answer 503 until it is reachable.
  await stores.backend.connect().catch(() => undefined);
  return stores;
}
