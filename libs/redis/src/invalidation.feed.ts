/** Told of sessions deleted or replaced, by this instance or any other (see InvalidationFeed). */
export interface InvalidationListener {
  /** This session was deleted or replaced: what is held of it is stale. */
  invalidated(keyHash: string): void;
  /** Invalidations may have been missed (the feed was cut): everything held is suspect. */
  reset(): void;
}

/**
 * Where a store announces every session it deletes or replaces, so that an instance may answer
 * reads from memory (SessionReadCache). The store's own changes are announced at once, other
 * instances' as the store delivers them.
 */
export interface InvalidationFeed {
  /** Starts delivering to `listener` (besides those already listening). */
  listen(listener: InvalidationListener): void;
  /**
   * True while every invalidation published up to a short, fixed time ago (the feed's heartbeat)
   * has been delivered: only then may a read be answered from memory.
   */
  readonly live: boolean;
}
