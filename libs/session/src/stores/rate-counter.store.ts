/** One hit counted in a fixed window: the hits so far in it, and how long until it resets. */
export interface HitCount {
  readonly hits: number;
  readonly resetsInMs: number;
}

/** Fixed-window hit counters. Failures to reach the store throw SessionError `session_store_unavailable`. */
export abstract class RateCounterStore {
  /**
   * Counts a hit on `counterKey` (a keyed hash, never a raw client address) in one atomic step: the
   * first hit opens a window of `windowMs`, after which the counter is gone. Shared by every instance
   * on the store, so a rate limit holds however many instances there are.
   */
  abstract countHit(counterKey: string, windowMs: number): Promise<HitCount>;
}
