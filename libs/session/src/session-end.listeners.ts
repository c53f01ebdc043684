import { Injectable } from '@nestjs/common';
import type { SessionData } from './session.types.js';

/** Told what an ended session held, after it was deleted; must not throw (what it does is best effort). */
export type SessionEndListener = (ended: SessionData) => Promise<void>;

/**
 * Who must hear that a session ended for good (logout, revocation, back-channel logout, a refused
 * refresh), with what it held: e.g. its third-party connections, revoked there as its refresh token
 * is at the provider. A session replaced by another (step-up) or found expired does not count.
 */
@Injectable()
export class SessionEndListeners {
  private readonly listeners: SessionEndListener[] = [];

  listen(listener: SessionEndListener): void {
    this.listeners.push(listener);
  }

  async ended(session: SessionData): Promise<void> {
    await Promise.all(this.listeners.map((listener) => listener(session).catch(() => undefined)));
  }
}
