export type StoreKind = 'redis' | 'memory';

/**
 * What every store of a gateway shares: one Redis (one connection for all of them, chosen by the
 * settings in SessionModule), or this process's memory. Failures to reach it throw SessionError
 * `session_store_unavailable`, from whichever store met them.
 */
export abstract class StoreBackend {
  abstract readonly kind: StoreKind;

  /** Commands that failed to reach the store since it was opened (for metrics). */
  abstract readonly failures: number;

  /** Throws SessionError `session_store_unavailable` unless the store answers (readiness). */
  abstract ping(): Promise<void>;

  abstract close(): Promise<void>;
}
