import { StoreBackend } from './store.backend.js';

/** This process's memory, for development without Redis: always there, lost on restart, not shared between instances. */
export class MemoryStoreBackend extends StoreBackend {
  readonly kind = 'memory';
  readonly failures = 0;

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
