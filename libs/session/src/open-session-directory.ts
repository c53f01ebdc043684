import type { Logger } from 'pino';
import type { StoreConfig } from '#sessiongate/config';
import { SessionAudit } from './session.audit.js';
import { SessionCipher } from './session.cipher.js';
import { Clock } from './session.clock.js';
import { SessionDirectory } from './session.directory.js';
import { SessionLookups } from './session.lookups.js';
import { redisStores } from './stores/open-stores.js';

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
  const { backend, sessionRecords, auditTrail } = redisStores(config.redis, clock, logger);
  try {
    await backend.connect();
  } catch (error) {
    await backend.close();
    throw error;
  }
  const directory = new SessionDirectory(
    sessionRecords,
    new SessionCipher(config.encryptionKeys),
    new SessionLookups(config.indexKey),
    clock,
  );
  return { directory, audit: new SessionAudit(auditTrail, clock, logger), close: () => backend.close() };
}
