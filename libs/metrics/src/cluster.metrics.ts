import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { GatewayMetrics } from './gateway.metrics.js';

/** What `/metrics` serves: one process's metrics, or every worker's added up. */
export interface MetricsText {
  readonly contentType: string;
  text(): Promise<string>;
}

const SCRAPE = 'sessiongate:metrics';
/** A scrape the primary could not answer in this long fails (each worker has prom-client's own 5 s to answer it). */
const SCRAPE_TIMEOUT_MS = 6000;

interface ScrapeMessage {
  readonly type: typeof SCRAPE;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

function isScrape(message: unknown): message is ScrapeMessage {
  return (message as ScrapeMessage | null)?.type === SCRAPE;
}

/**
 * In a worker of GATEWAY_WORKERS: `/metrics`, whichever worker is asked, is all workers' metrics added up
 * (prom-client's cluster aggregation, run by the primary), since a scraper cannot choose the worker it
 * reaches and one worker's counts would be a random share of the traffic.
 */
export function workerMetrics(metrics: GatewayMetrics): MetricsText {
  AggregatorRegistry.setRegistries([metrics.registry]);
  // Its constructor makes this worker answer the primary's requests for its metrics.
  new AggregatorRegistry();
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isScrape(message)) return;
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.text !== undefined) waiting?.resolve(message.text);
    else waiting?.reject(new Error(message.error ?? 'no metrics from the primary'));
  });
  return {
    contentType: metrics.contentType,
    text: () =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('the primary did not answer the metrics scrape'));
        }, SCRAPE_TIMEOUT_MS);
        const settle =
          <T>(done: (value: T) => void) =>
          (value: T) => {
            clearTimeout(timer);
            done(value);
          };
        pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
        process.send?.({ type: SCRAPE, id } satisfies ScrapeMessage);
      }),
  };
}

/** In the primary: answers each worker's scrape with every worker's metrics, aggregated. */
export function aggregateWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isScrape(message)) return;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: SCRAPE, id: message.id, text } satisfies ScrapeMessage),
      (error: Error) => worker.isConnected() && worker.send({ type: SCRAPE, id: message.id, error: error.message } satisfies ScrapeMessage),
    );
  });
}
