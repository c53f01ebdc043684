import { type HitCount, RateCounterStore } from './rate-counter.store.js';
import type { RedisStoreBackend } from './redis-store.backend.js';

/** Rate counters in Redis: `sg:rate:{<r>}`, a number whose TTL is what is left of its window. */
export class RedisRateCounterStore extends RateCounterStore {
  constructor(private readonly backend: RedisStoreBackend) {
    super();
  }

  async countHit(counterKey: string, windowMs: number): Promise<HitCount> {
    const [hits, ttl] = await this.backend.run(() => this.backend.redis.countHit(`sg:rate:{${counterKey}}`, windowMs));
    return { hits, resetsInMs: ttl > 0 ? ttl : windowMs };
  }
}
