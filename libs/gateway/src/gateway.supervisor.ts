import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { GatewayConfig } from '#sessiongate/config';
import { aggregateWorkerMetrics } from '#sessiongate/metrics';
import { createLogger } from '#sessiongate/observability';
import { startGateway } from './start-gateway.js';

/** A worker tells the primary it is serving (startGateway resolved) with this message. */
const READY = 'sessiongate:ready';
/** The first restart of a crashed worker waits this long, each further one twice as long, up to MAX_RESTART_DELAY_MS. */
const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 10_000;
/** A worker serving this long after a crash resets the backoff. */
const STABLE_MS = 10_000;
/** Workers in a row that die before serving: the primary gives up (a problem every worker will have) and exits 1. */
const START_ATTEMPTS = 3;
/** Past SHUTDOWN_TIMEOUT_MS (each worker's own bound), how long the primary waits for workers to exit before killing them. */
const STOP_GRACE_MS = 2000;

/**
 * Runs the gateway as the production entry point does: in this process, or, with GATEWAY_WORKERS above 1,
 * as the primary of that many workers (each of which runs this function again, and serves). Resolves once
 * serving; SIGTERM and SIGINT stop it gracefully.
 */
export async function runGateway(config: GatewayConfig): Promise<void> {
  if (config.workers > 1 && cluster.isPrimary)
    superviseWorkers(config, createLogger({ level: config.logLevel, fields: { pid: process.pid } }));
  else await serve(config);
}

async function serve(config: GatewayConfig): Promise<void> {
  const inWorker = cluster.isWorker;
  const logger = createLogger({ level: config.logLevel, fields: inWorker ? { pid: process.pid } : undefined });
  const gateway = await startGateway(config, { logger, clusterWorker: inWorker });
  let stopping = false;
  // Stop accepting, let in-flight requests (streams included) finish, close Redis; bounded, so a
  // stuck client cannot hold the process past the orchestrator's own kill timeout.
  const shutdown = () => {
    // Once: a terminal's Ctrl-C reaches the workers and the primary, which then signals them too.
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    void gateway.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (inWorker) process.send?.({ type: READY });
}

/**
 * The primary forks and supervises only: it serves nothing and holds no session. A crashed worker is
 * restarted with backoff; workers that keep dying before they serve stop the whole gateway (exit 1),
 * as a single process would have stopped; SIGTERM and SIGINT stop every worker with its own graceful
 * shutdown, and the primary exits 0 once all have exited 0.
 */
function superviseWorkers(config: GatewayConfig, logger: Logger): void {
  const workers = new Set<Worker>();
  const restarts = new Set<NodeJS.Timeout>();
  let stopping = false;
  let crashes = 0;
  let failedStarts = 0;
  let exitCode = 0;

  const fork = (): void => {
    const worker = cluster.fork();
    workers.add(worker);
    let ready = false;
    let stable: NodeJS.Timeout | undefined;
    worker.on('message', (message: { type?: unknown } | null) => {
      if (message?.type !== READY) return;
      ready = true;
      failedStarts = 0;
      logger.info({ worker: worker.process.pid }, 'worker serving');
      stable = setTimeout(() => (crashes = 0), STABLE_MS);
    });
    worker.once('exit', (code, signal) => {
      clearTimeout(stable);
      workers.delete(worker);
      if (stopping) {
        // A worker that could not finish its graceful shutdown in time (or was killed) makes the stop unclean.
        if (code !== 0) exitCode = 1;
        return stoppedOne();
      }
      if (!ready && ++failedStarts >= START_ATTEMPTS) {
        logger.error(
          { worker: worker.process.pid, code, signal, attempts: failedStarts },
          'workers keep exiting before they serve; stopping',
        );
        return stop(1);
      }
      const delay = Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** crashes++);
      logger.error({ worker: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited; restarting it');
      const restart = setTimeout(() => {
        restarts.delete(restart);
        fork();
      }, delay);
      restarts.add(restart);
    });
  };

  const stoppedOne = (): void => {
    if (workers.size === 0) process.exit(exitCode);
  };
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    exitCode ||= code;
    for (const restart of restarts) clearTimeout(restart);
    setTimeout(() => {
      for (const worker of workers) worker.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownTimeoutMs + STOP_GRACE_MS).unref();
    for (const worker of workers) worker.process.kill('SIGTERM');
    stoppedOne();
  };

  aggregateWorkerMetrics();
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  logger.info({ workers: config.workers }, 'starting workers');
  for (let index = 0; index < config.workers; index++) fork();
}
