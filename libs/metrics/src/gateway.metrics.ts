import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import type { ApiRoute } from '#sessiongate/config';
import {
  type ObservedSessionStore,
  type OutcomeEvent,
  type SessionReadSource,
  Telemetry,
  type TelemetryHandle,
  type TokenGrant,
} from '#sessiongate/observability';
import { type HistogramSeries, HotHistogram } from './hot.histogram.js';

/** From 1 ms (a cached token, a fast API) to 10 s (a slow upstream). */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LOCK_WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10];
/** Index: the status code's first digit. */
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/**
 * Telemetry as the gateway's Prometheus metrics, in a registry of its own (never prom-client's global one: two
 * gateways in one process, as in tests, keep separate counts). One instance per gateway process,
 * shared by the main and the admin listener. Every label value comes from a bounded set: a
 * configured route prefix or a declared route, a status class, an error code, an outcome.
 *
 * The request path records into series created once per route (HotHistogram): no label hashing
 * or string building per request. A start hook's handle is its performance.now(), or nothing.
 */
export class GatewayMetrics extends Telemetry {
  readonly registry = new Registry();
  private readonly requests = new HotHistogram(
    'sessiongate_http_request_duration_seconds',
    'Requests served, by route (API route prefix or declared route) and status class: time to the end of the response.',
    REQUEST_BUCKETS,
  );
  private readonly requestSeries = new Map<string, (HistogramSeries | undefined)[]>();
  /** By route prefix. */
  private readonly upstreamSeries: ReadonlyMap<string, HistogramSeries>;
  private readonly errors = new Counter({
    name: 'sessiongate_http_errors_total',
    help: 'Error responses by error code (session_store_unavailable: Redis could not be reached).',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly tokenRequests = new Histogram({
    name: 'sessiongate_token_request_duration_seconds',
    help: 'Token requests to the provider (refresh_token: refreshes; client_credentials), by outcome: ok or the error code.',
    labelNames: ['grant', 'outcome'],
    buckets: TOKEN_BUCKETS,
    registers: [this.registry],
  });
  private readonly lockWaits = new Histogram({
    name: 'sessiongate_refresh_lock_wait_seconds',
    help: "Time to take a session's refresh lock, by outcome (ok, refresh_timeout, session_store_unavailable).",
    labelNames: ['outcome'],
    buckets: LOCK_WAIT_BUCKETS,
    registers: [this.registry],
  });
  private readonly outcomes: Readonly<
    Record<OutcomeEvent, { readonly counter: Counter<string>; readonly labels: Readonly<Record<string, string>> }>
  >;

  constructor(routes: readonly ApiRoute[]) {
    super();
    this.registry.registerMetric(this.requests as unknown as Metric);
    const upstream = new HotHistogram(
      'sessiongate_upstream_response_seconds',
      'Time from sending a proxied request to the API route to its response headers.',
      REQUEST_BUCKETS,
    );
    this.registry.registerMetric(upstream as unknown as Metric);
    this.upstreamSeries = new Map(routes.map((route) => [route.prefix, upstream.series({ route: route.prefix })]));
    const counter = (name: string, help: string, labelNames: string[] = ['outcome']) =>
      new Counter({ name, help, labelNames, registers: [this.registry] });
    const logins = counter('sessiongate_logins_total', 'Completed logins (/bff/callback), by outcome: ok or the error code.');
    const logouts = counter('sessiongate_logouts_total', 'Logouts (/bff/logout), by outcome: ok or the error code.');
    const backchannel = counter(
      'sessiongate_backchannel_logouts_total',
      'Back-channel logout requests from the provider, by outcome: ok or the error code.',
    );
    const revocations = counter(
      'sessiongate_admin_revocations_total',
      'Admin revocations, by scope (session, user) and outcome: ok or the error code.',
      ['scope', 'outcome'],
    );
    this.outcomes = {
      login: { counter: logins, labels: {} },
      logout: { counter: logouts, labels: {} },
      backchannel_logout: { counter: backchannel, labels: {} },
      admin_revoke_session: { counter: revocations, labels: { scope: 'session' } },
      admin_revoke_user: { counter: revocations, labels: { scope: 'user' } },
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  requestStarted(): TelemetryHandle {
    return undefined;
  }

  /** `route` must come from a bounded set (see routeLabel); the session's public id is never a label. */
  requestEnded(_handle: TelemetryHandle, route: string, status: number, durationMs: number, errorCode: string | null): void {
    let byClass = this.requestSeries.get(route);
    if (byClass === undefined) {
      byClass = [];
      this.requestSeries.set(route, byClass);
    }
    const statusClass = Math.min(5, Math.trunc(status / 100));
    let series = byClass[statusClass];
    if (series === undefined) {
      series = this.requests.series({ route, status_class: STATUS_CLASSES[statusClass]! });
      byClass[statusClass] = series;
    }
    series.observe(durationMs / 1000);
    if (errorCode) this.errors.inc({ code: errorCode });
  }

  sessionReadStarted(): TelemetryHandle {
    return undefined;
  }

  sessionReadEnded(_handle: TelemetryHandle, _source: SessionReadSource, _outcome: string): void {}

  tokenRequestStarted(): TelemetryHandle {
    return performance.now();
  }

  tokenRequestEnded(handle: TelemetryHandle, grant: TokenGrant, outcome: string): void {
    // The code exchange is a login's, counted as such (sessiongate_logins_total).
    if (grant === 'authorization_code') return;
    this.tokenRequests.observe({ grant, outcome }, secondsSince(handle));
  }

  lockWaitStarted(): TelemetryHandle {
    return performance.now();
  }

  lockWaitEnded(handle: TelemetryHandle, outcome: string): void {
    this.lockWaits.observe({ outcome }, secondsSince(handle));
  }

  upstreamStarted(): TelemetryHandle {
    return performance.now();
  }

  /** Only a first attempt that got its response headers: the time the upstream took to answer. */
  upstreamEnded(handle: TelemetryHandle, route: string, resendCount: number, outcome: number | string): void {
    if (resendCount === 0 && typeof outcome === 'number') this.upstreamSeries.get(route)?.observe(secondsSince(handle));
  }

  outcome(event: OutcomeEvent, outcome: string): void {
    const { counter, labels } = this.outcomes[event];
    counter.inc({ ...labels, outcome });
  }

  /**
   * Reads the store's session count and failures when scraped: one bounded-cost command (Redis:
   * ZLEXCOUNT on the `sg:sessions` index), never on a request. With the store down, the gauge has
   * no sample rather than a wrong one.
   */
  sessionStoreOpened(store: ObservedSessionStore): void {
    const labels = { store: store.kind };
    new Gauge({
      name: 'sessiongate_active_sessions',
      help: 'Sessions not past their absolute expiry (Redis: by its index, where a session that idled out counts until it is swept).',
      labelNames: ['store'],
      registers: [this.registry],
      // Every worker of GATEWAY_WORKERS counts the same store: added up, they would count each session once per worker.
      aggregator: 'max',
      async collect() {
        this.reset();
        const count = await store.countSessions().catch(() => undefined);
        if (count !== undefined) this.set(labels, count);
      },
    });
    new Counter({
      name: 'sessiongate_session_store_errors_total',
      help: 'Session store commands that failed (Redis unreachable or too slow).',
      labelNames: ['store'],
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(labels, store.failures);
      },
    });
  }
}

/** `startedAt`: what a start hook returned. */
function secondsSince(startedAt: TelemetryHandle): number {
  return (performance.now() - (startedAt as number)) / 1000;
}
