import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

export interface RefreshStormOptions {
  /** Gateway instances sharing one Redis; each session's concurrent requests are spread over all of them. */
  readonly instances: readonly string[];
  /** One `Cookie` header per session. */
  readonly cookies: readonly string[];
  /** Concurrent requests per session (K). */
  readonly concurrency: number;
  readonly waves: number;
  /** `performance.now()` at which the first wave starts: every session's token must be due by then. */
  readonly startAt: number;
  readonly periodMs: number;
  /** How long each wave keeps its K requests per session running back to back. */
  readonly loadMs: number;
  readonly path: string;
  /** Refresh grants the provider has issued so far. */
  refreshGrants(): Promise<number>;
}

export interface RefreshStormResult {
  readonly requests: number;
  readonly durationMs: number;
  readonly statusCounts: Readonly<Record<string, number>>;
  /** Requests that got no HTTP answer at all. */
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly grantsPerWave: readonly number[];
}

/**
 * The refresh storm: M sessions × K concurrent requests, in waves. Each wave starts when every session's
 * access token is due for refresh and lasts less than the token's refresh interval, so every wave needs
 * exactly one refresh per session, however many requests and instances race for it. Requests go back to
 * back for the length of the wave (the first ones find the token due; the rest reuse the new one).
 */
export async function runRefreshStorm(options: RefreshStormOptions): Promise<RefreshStormResult> {
  const perInstance = Math.ceil((options.cookies.length * options.concurrency) / options.instances.length);
  const pools = options.instances.map((url) => new Pool(url, { connections: perInstance, pipelining: 1 }));
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let errors = 0;

  const worker = async (pool: Pool, cookie: string, until: number) => {
    while (performance.now() < until) {
      const started = performance.now();
      try {
        const { statusCode, body } = await pool.request({ path: options.path, method: 'GET', headers: { cookie, 'x-csrf': '1' } });
        await body.dump();
        latencies.push(performance.now() - started);
        statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
      } catch {
        errors++;
      }
    }
  };

  const grantsPerWave: number[] = [];
  try {
    for (let wave = 0; wave < options.waves; wave++) {
      const waveStart = options.startAt + wave * options.periodMs;
      await sleep(Math.max(0, waveStart - performance.now()));
      const before = await options.refreshGrants();
      const until = waveStart + options.loadMs;
      await Promise.all(
        options.cookies.flatMap((cookie, session) =>
          Array.from({ length: options.concurrency }, (_, k) =>
            worker(pools[(session * options.concurrency + k) % pools.length]!, cookie, until),
          ),
        ),
      );
      grantsPerWave.push((await options.refreshGrants()) - before);
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
  const sorted = Float64Array.from(latencies).sort();
  const at = (quantile: number) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)]!;
  return {
    requests: latencies.length + errors,
    durationMs: performance.now() - options.startAt,
    statusCounts,
    errors,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
    grantsPerWave,
  };
}
