import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ApiRoute, GatewayConfig, TracingConfig } from '#sessiongate/config';
import { requestPath, type SessionReadSource, Telemetry, type TelemetryHandle, type TokenGrant } from '#sessiongate/observability';
import { LoggedSpanExporter } from './logged-span.exporter.js';
import { samplerFor } from './trace-sampler.policy.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's trace, while tracing is on (GatewayTracer.instrument declares it). */
    requestTrace: RequestTrace | null;
  }
}

/**
 * What a request's children need: the context holding the current span (the request's, or the child
 * `within` runs in), and the request's method (an upstream call's too). Also requestStarted's handle.
 */
class RequestTrace {
  constructor(
    readonly context: Context,
    readonly span: Span,
    readonly method: string,
  ) {}
}

/** Attribute names of our own, beside OpenTelemetry's semantic conventions. */
export const TraceAttribute = {
  /** The session's public id (never the cookie value, which is the session's secret id). */
  SessionPublicId: 'sessiongate.session.public_id',
  RequestId: 'sessiongate.request_id',
  /** `memory` or `store`. */
  SessionSource: 'sessiongate.session.source',
  /** ok, or the error code; for a session read: found, none, or the error code. */
  Outcome: 'sessiongate.outcome',
  TokenGrant: 'sessiongate.token.grant',
  /** The API route's prefix an upstream call is for. */
  ApiRoute: 'sessiongate.api_route',
} as const;

const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** OpenTelemetry's known methods; any other is `_OTHER` (http.request.method), so a caller cannot make up span names. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);

/**
 * Telemetry as OpenTelemetry traces: a SERVER span per request, with children for the session read, the
 * refresh-lock wait, token requests and the upstream call (CLIENT), exported in batches over OTLP/HTTP.
 *
 * A request's children find it through an AsyncLocalStorage entered by the onRequest hook `instrument`
 * adds. That costs something on every
 * promise, which is why nothing here exists while tracing is off: startGateway then makes none.
 *
 * Nothing a caller controls becomes a span name; attributes are bounded values (route prefix or declared
 * route, status, error code, outcome), the request id and the session's public id: never a path, a
 * query string, a header value, a cookie or a token.
 */
export class GatewayTracer extends Telemetry {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly storage = new AsyncLocalStorage<RequestTrace>();
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly upstreams: ReadonlyMap<string, Attributes>;

  constructor(
    private readonly config: TracingConfig,
    routes: readonly ApiRoute[],
    exporter: SpanExporter,
  ) {
    super();
    this.provider = new BasicTracerProvider({
      resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName })),
      sampler: samplerFor(config),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.exportDelayMs })],
    });
    this.tracer = this.provider.getTracer('sessiongate');
    this.upstreams = new Map(
      routes.map((route) => [
        route.prefix,
        {
          [TraceAttribute.ApiRoute]: route.prefix,
          [ATTR_SERVER_ADDRESS]: route.target.hostname,
          [ATTR_SERVER_PORT]: Number(route.target.port || (route.target.protocol === 'https:' ? 443 : 80)),
        },
      ]),
    );
  }

  /**
   * Declares the request's trace field and enters each request's trace for what follows it: call right
   * after the onRequest hook that calls requestStarted, before any other. (The /api data plane, which
   * Fastify never sees, enters it through `serving`.)
   */
  instrument(fastify: FastifyInstance): void {
    fastify.decorateRequest('requestTrace', null);
    // Fastify runs what follows body parsing in the context its hooks ran in (an AsyncResource of its own).
    fastify.addHook('onRequest', (request, _reply, done) => {
      if (request.requestTrace === null) done();
      else this.storage.run(request.requestTrace, done);
    });
  }

  requestStarted(request: FastifyRequest): TelemetryHandle {
    // An orchestrator's probes and a scraper would otherwise be most of the traces.
    if (UNTRACED_PATHS.has(requestPath(request))) return undefined;
    const parent = this.config.trustIncoming ? this.propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter) : ROOT_CONTEXT;
    const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER';
    const span = this.tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [TraceAttribute.RequestId]: String(request.id) } },
      parent,
    );
    const started = new RequestTrace(trace.setSpan(parent, span), span, method);
    request.requestTrace = started;
    return started;
  }

  requestEnded(
    handle: TelemetryHandle,
    route: string,
    status: number,
    _durationMs: number,
    errorCode: string | null,
    sessionPublicId: string | null,
  ): void {
    if (!handle) return;
    const { span, method } = handle as RequestTrace;
    if (span.isRecording()) {
      // `unmatched` is no route: the span keeps the method alone as its name.
      if (route !== 'unmatched') {
        span.updateName(`${method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (sessionPublicId !== null) span.setAttribute(TraceAttribute.SessionPublicId, sessionPublicId);
      if (errorCode !== null) span.setAttribute(ATTR_ERROR_TYPE, errorCode);
      // Semantic conventions: a server's 4xx is the caller's doing, not an error of this span.
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  sessionReadStarted(): TelemetryHandle {
    return this.child('session.read', SpanKind.INTERNAL, undefined);
  }

  sessionReadEnded(handle: TelemetryHandle, source: SessionReadSource, outcome: string): void {
    if (!handle) return;
    const span = handle as Span;
    span.setAttribute(TraceAttribute.SessionSource, source);
    span.setAttribute(TraceAttribute.Outcome, outcome);
    if (outcome !== 'found' && outcome !== 'none') failed(span, outcome);
    span.end();
  }

  tokenRequestStarted(grant: TokenGrant): TelemetryHandle {
    return this.child('oidc.token', SpanKind.CLIENT, { [TraceAttribute.TokenGrant]: grant });
  }

  tokenRequestEnded(handle: TelemetryHandle, _grant: TokenGrant, outcome: string): void {
    ended(handle, outcome);
  }

  lockWaitStarted(): TelemetryHandle {
    return this.child('refresh_lock.wait', SpanKind.INTERNAL, undefined);
  }

  lockWaitEnded(handle: TelemetryHandle, outcome: string): void {
    ended(handle, outcome);
  }

  upstreamStarted(route: string, resendCount: number): TelemetryHandle {
    const parent = this.storage.getStore();
    if (parent === undefined || !parent.span.isRecording()) return undefined;
    const span = this.tracer.startSpan(
      `${parent.method} ${route}`,
      { kind: SpanKind.CLIENT, attributes: { ...this.upstreams.get(route), [ATTR_HTTP_REQUEST_METHOD]: parent.method } },
      parent.context,
    );
    // Semantic conventions: set on a resend only.
    if (resendCount > 0) span.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, resendCount);
    return span;
  }

  upstreamEnded(handle: TelemetryHandle, _route: string, _resendCount: number, outcome: number | string): void {
    if (!handle) return;
    const span = handle as Span;
    if (typeof outcome === 'number') {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome);
      // A client's 4xx is an error of its own call (semantic conventions), which the caller may still pass on as is.
      if (outcome >= 400) failed(span, String(outcome));
    } else {
      failed(span, outcome);
    }
    span.end();
  }

  outcome(): void {}

  sessionStoreOpened(): void {}

  override within<T>(handle: TelemetryHandle, work: () => T): T {
    const current = this.storage.getStore();
    if (!handle || current === undefined) return work();
    const span = handle as Span;
    return this.storage.run(new RequestTrace(trace.setSpan(current.context, span), span, current.method), work);
  }

  override serving<T>(requestHandle: TelemetryHandle, work: () => T): T {
    return requestHandle ? this.storage.run(requestHandle as RequestTrace, work) : work();
  }

  /**
   * Replaces whatever the client sent under these names: an untrusted `traceparent` must not reach the
   * API, and a trusted one has become this span's parent.
   */
  override propagate(headers: Record<string, string | string[]>, handle?: TelemetryHandle): void {
    const spanContext = handle ? (handle as Span).spanContext() : this.currentSpanContext();
    if (spanContext === undefined || !isSpanContextValid(spanContext)) {
      // Outside any request (a WebSocket handshake): the client's own trace passes on only when trusted.
      if (!this.config.trustIncoming) {
        if (headers.traceparent !== undefined) delete headers.traceparent;
        if (headers.tracestate !== undefined) delete headers.tracestate;
      }
      return;
    }
    headers.traceparent = traceparentOf(spanContext);
    const state = spanContext.traceState?.serialize();
    if (state) headers.tracestate = state;
    else if (headers.tracestate !== undefined) delete headers.tracestate;
  }

  /** Exports what is left (graceful shutdown). */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }

  /** Sends the spans ended so far (tests, benchmarks). */
  forceFlush(): Promise<void> {
    return this.provider.forceFlush();
  }

  private currentSpanContext(): SpanContext | undefined {
    return this.storage.getStore()?.span.spanContext();
  }

  /** A child of the current request's span; none outside a request, or when the request is not sampled. */
  private child(name: string, kind: SpanKind, attributes: Attributes | undefined): Span | undefined {
    const parent = this.storage.getStore();
    if (parent === undefined || !parent.span.isRecording()) return undefined;
    return this.tracer.startSpan(name, { kind, attributes }, parent.context);
  }
}

/** W3C Trace Context §3.2: version 00, trace id, parent id, flags. */
function traceparentOf(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${spanContext.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;
}

function ended(handle: TelemetryHandle, outcome: string): void {
  if (!handle) return;
  const span = handle as Span;
  span.setAttribute(TraceAttribute.Outcome, outcome);
  if (outcome !== 'ok') failed(span, outcome);
  span.end();
}

function failed(span: Span, errorType: string): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** The gateway's tracer, exporting to the configured OTLP endpoint; undefined while tracing is off (no endpoint set). */
export function tracerFor(config: Pick<GatewayConfig, 'tracing' | 'routes'>, logger: Logger): GatewayTracer | undefined {
  if (config.tracing === undefined) return undefined;
  const exporter = new OTLPTraceExporter({ url: config.tracing.tracesUrl.href });
  return new GatewayTracer(config.tracing, config.routes, new LoggedSpanExporter(exporter, logger));
}
