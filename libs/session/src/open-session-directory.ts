import type { Logger } from 'pino';
import type { StoreConfig } from '#sessiongate/config';
import { RedisSessionStore } from './redis-session.store.js';
import { SessionAudit } from './session.audit.js';
import { SessionCipher } from './session.cipher.js';
import { Clock } from './session.clock.js';
import { SessionDirectory } from './session.directory.js';
import { SessionLookups } from './session.lookups.js';

export interface OpenedSessionDirectory {
  readonly directory: SessionDirectory;
  readonly audit: SessionAudit;
  close(): Promise<void>;
}

/**
 * The session directory straight on Redis, outside the gateway (the break-glass CLI). Fails with
 * SessionError `session_store_unavailable` when Redis cannot be reached.
 */
export async function openSessionDirectory(config: StoreConfig, logger: Logger): Promise<OpenedSessionDirectory> {
  const clock = new Clock();
  const store = new RedisSessionStore(config.redis, clock, logger);
  try {
    await store.connect();
  } catch (error) {
    await store.close();
    throw error;
  }
  const directory = new SessionDirectory(store, new SessionCipher(config.encryptionKeys), new SessionLookups(config.indexKey), clock);
  return { directory, audit: new SessionAudit(store, clock, logger), close: () => store.close() };
}
