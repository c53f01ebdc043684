import { Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { HttpPolicyModule } from '#sessiongate/http';
import { LOGGER } from '#sessiongate/observability';
import { MemorySessionStore } from './memory-session.store.js';
import { RateCounter } from './rate.counter.js';
import { RedisSessionStore } from './redis-session.store.js';
import { SessionAudit } from './session.audit.js';
import { SessionCipher } from './session.cipher.js';
import { SessionCookieReader } from './session-cookie.reader.js';
import { Clock } from './session.clock.js';
import { SessionDirectory } from './session.directory.js';
import { SessionLookups } from './session.lookups.js';
import { SessionService } from './session.service.js';
import { SessionStore } from './session.store.js';

/** Server-side sessions, their directory, audit trail and rate counters, and the session step of a request (RouteGuard, `@Requires`). Needs the global GATEWAY_CONFIG and LOGGER. */
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
    { provide: SessionStore, inject: [GATEWAY_CONFIG, Clock, LOGGER], useFactory: createStore },
    SessionService,
    SessionDirectory,
    SessionAudit,
    RateCounter,
    SessionCookieReader,
  ],
  exports: [SessionService, SessionDirectory, SessionAudit, SessionStore, Clock, RateCounter, SessionCookieReader],
})
export class SessionModule implements OnApplicationShutdown {
  constructor(private readonly store: SessionStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

async function createStore(config: GatewayConfig, clock: Clock, logger: Logger): Promise<SessionStore> {
  if (config.redis === undefined) {
    logger.warn(
      'REDIS_URL is unset: sessions are kept in this process only (lost on restart, not shared between instances). For development only.',
    );
    return new MemorySessionStore(clock);
  }
  const store = new RedisSessionStore(config.redis, clock, logger);
  // Start even when Redis is down: session requests answer 503 until it is reachable.
  await store.connect().catch(() => undefined);
  return store;
}
