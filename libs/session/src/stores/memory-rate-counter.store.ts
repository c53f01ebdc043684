import type { Clock } from '../session.clock.js';
import { type HitCount, RateCounterStore } from './rate-counter.store.js';

/** Rate counters in this process, their windows ending by the Clock. */
export class MemoryRateCounterStore extends RateCounterStore {
  private readonly counters = new Map<string, { hits: number; resetsAt: number }>();

  constructor(private readonly clock: Clock) {
    super();
  }

  async countHit(counterKey: string, windowMs: number): Promise<HitCount> {
    const now = this.clock.now();
    for (const [key, counter] of this.counters) if (counter.resetsAt <= now) this.counters.delete(key);
    const counter = this.counters.get(counterKey) ?? { hits: 0, resetsAt: now + windowMs };
    counter.hits++;
    this.counters.set(counterKey, counter);
    return { hits: counter.hits, resetsInMs: counter.resetsAt - now };
  }
}
