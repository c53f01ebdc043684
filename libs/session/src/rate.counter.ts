import { Injectable } from '@nestjs/common';
import { SessionLookups } from './session.lookups.js';
import { type HitCount, RateCounterStore } from './stores/rate-counter.store.js';

/**
 * Fixed-window hit counters in the session store, shared by every gateway instance on it. Counter
 * names usually contain a client address: the store sees only their keyed hash.
 */
@Injectable()
export class RateCounter {
  constructor(
    private readonly store: RateCounterStore,
    private readonly lookups: SessionLookups,
  ) {}

  hit(name: string, windowMs: number): Promise<HitCount> {
    return this.store.countHit(this.lookups.rateCounter(name), windowMs);
  }
}
