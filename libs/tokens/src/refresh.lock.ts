import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { LOGGER, Telemetry } from '#sessiongate/observability';
import { RefreshLockStore, sessionKeyHash } from '#sessiongate/session';
import { refreshTimeout } from './tokens.errors.js';

const FIRST_RETRY_MS = 10;
const LONGEST_RETRY_MS = 200;

/**
 * The per-session refresh lock, shared by every gateway instance through the session store. The
 * lease is renewed while the work runs, so a slow token request never outlives it (a fixed short
 * lease that expires mid-refresh lets a second instance reuse the refresh token). A holder that
 * dies frees the lock when its lease runs out; a waiter gives up after REFRESH_WAIT_TIMEOUT_MS.
 */
@Injectable()
export class RefreshLock {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly locks: RefreshLockStore,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly telemetry: Telemetry,
  ) {}

  async hold<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    return this.holdKey(sessionKeyHash(sessionId), work);
  }

  /**
   * The same lock under another name (a 43-character base64url hash, as a session's key hash is): e.g.
   * one per session and third-party connection, which must never be the session's own.
   */
  async holdKey<T>(lockKey: string, work: () => Promise<T>): Promise<T> {
    const owner = randomUUID();
    const leaseMs = this.config.tokens.refreshLockLeaseMs;
    await this.telemetry.lockWait(() => this.acquire(lockKey, owner, leaseMs));
    const renewal = setInterval(() => void this.renew(lockKey, owner, leaseMs), Math.max(1, Math.floor(leaseMs / 3)));
    renewal.unref();
    try {
      return await work();
    } finally {
      clearInterval(renewal);
      // If this fails the lease still runs out by itself.
      await this.locks.release(lockKey, owner).catch(() => undefined);
    }
  }

  private async acquire(lockKey: string, owner: string, leaseMs: number): Promise<void> {
    const waitMs = this.config.tokens.refreshWaitMs;
    const deadline = Date.now() + waitMs;
    let delay = FIRST_RETRY_MS;
    while (!(await this.locks.acquire(lockKey, owner, leaseMs))) {
      if (Date.now() + delay > deadline) throw refreshTimeout(waitMs);
      // Jitter, so that waiters on several instances do not retry in lockstep.
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, LONGEST_RETRY_MS);
    }
  }

  private async renew(lockKey: string, owner: string, leaseMs: number): Promise<void> {
    const held = await this.locks.renew(lockKey, owner, leaseMs).catch(() => false);
    if (!held) this.logger.warn('refresh lock lost while refreshing: the session store was unreachable or too slow');
  }
}
