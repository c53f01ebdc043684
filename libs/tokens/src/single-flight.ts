/** Concurrent callers with the same key share one run of `work`; the next call after it settles starts a new one. */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    let flight = this.running.get(key);
    if (!flight) {
      flight = work().finally(() => this.running.delete(key));
      this.running.set(key, flight);
    }
    return flight;
  }
}
