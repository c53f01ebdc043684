import { request as httpRequest } from 'node:http';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import fastify, { type FastifyRequest } from 'fastify';
import type { TracingConfig } from '#sessiongate/config';
import { GatewayTracer } from './gateway.tracer.js';
import { samplerFor } from './trace-sampler.policy.js';

const config: TracingConfig = {
  tracesUrl: new URL('http://collector.test/v1/traces'),
  serviceName: 'spec',
  sampler: 'parentbased_always_on',
  ratio: 1,
  exportDelayMs: 60_000,
  trustIncoming: false,
};
const routes = [{ prefix: '/api/echo', target: new URL('http://echo.test:8080/v1') }] as never;
const INCOMING = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** The fields requestStarted reads, as Fastify would give them (a stand-in: this is the tracer's own logic only). */
function request(headers: Record<string, string> = {}, method = 'GET', url = '/api/echo/1'): FastifyRequest {
  return { method, url, urlPath: null, id: 'req-1', headers, requestTrace: null } as unknown as FastifyRequest;
}

function tracer(overrides: Partial<TracingConfig> = {}): { tracer: GatewayTracer; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  return { tracer: new GatewayTracer({ ...config, ...overrides }, routes, exporter), exporter };
}

describe('GatewayTracer', () => {
  it('names the request span by method and route only, with bounded attributes', async () => {
    const { tracer: tracing, exporter } = tracer();
    const handle = tracing.requestStarted(request({}, 'PROPFIND'));
    tracing.requestEnded(handle, '/api/echo', 503, 1, 'upstream_timeout', 'public-id');
    await tracing.forceFlush();
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe('_OTHER /api/echo');
    expect(span!.attributes).toEqual({
      'http.request.method': '_OTHER',
      'sessiongate.request_id': 'req-1',
      'http.route': '/api/echo',
      'http.response.status_code': 503,
      'sessiongate.session.public_id': 'public-id',
      'error.type': 'upstream_timeout',
    });
    expect(span!.status.code).toBe(2);
  });

  it('makes children only inside a request (entered by its hooks), and writes the traceparent of the span asked for', async () => {
    const { tracer: tracing, exporter } = tracer();
    expect(tracing.sessionReadStarted()).toBeUndefined();
    const app = fastify();
    app.addHook('onRequest', (incoming, _reply, done) => {
      incoming.telemetryHandle = tracing.requestStarted(incoming);
      done();
    });
    tracing.instrument(app);
    app.addHook('onResponse', (incoming, reply, done) => {
      tracing.requestEnded(incoming.telemetryHandle, '/api/echo', reply.statusCode, 1, null, null);
      done();
    });
    const headers: Record<string, string> = { traceparent: INCOMING, tracestate: 'vendor=x' };
    app.post('/api/echo/x', async () => {
      await Promise.resolve();
      const call = tracing.upstreamStarted('/api/echo', 1);
      tracing.propagate(headers, call);
      tracing.upstreamEnded(call, '/api/echo', 1, 200);
      return {};
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    // A body that arrives after the headers is read in the socket's context: the request's must still hold after it.
    await new Promise<void>((answered, failed) => {
      const sent = httpRequest(`${url}/api/echo/x`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (response) =>
        response.resume().on('end', answered),
      );
      sent.on('error', failed).flushHeaders();
      setTimeout(() => sent.end('{"parsed":true}'), 50);
    });
    await app.close();
    await tracing.forceFlush();
    const [upstream, root] = exporter.getFinishedSpans();
    expect(upstream!.attributes).toMatchObject({ 'server.address': 'echo.test', 'server.port': 8080, 'http.request.resend_count': 1 });
    expect(upstream!.parentSpanContext?.spanId).toBe(root!.spanContext().spanId);
    expect(headers).toEqual({ traceparent: `00-${root!.spanContext().traceId}-${upstream!.spanContext().spanId}-01` });
  });

  it('makes no span for the health checks and metrics', () => {
    const { tracer: tracing } = tracer();
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(tracing.requestStarted(request({}, 'GET', path))).toBeUndefined();
  });

  it("outside a request, removes the client's trace headers unless trusted", () => {
    const untrusted: Record<string, string> = { traceparent: INCOMING, tracestate: 'vendor=x', other: 'kept' };
    tracer().tracer.propagate(untrusted);
    expect(untrusted).toEqual({ other: 'kept' });
    const trusted: Record<string, string> = { traceparent: INCOMING, tracestate: 'vendor=x' };
    tracer({ trustIncoming: true }).tracer.propagate(trusted);
    expect(trusted).toEqual({ traceparent: INCOMING, tracestate: 'vendor=x' });
  });

  it('continues an incoming traceparent only when trusted', () => {
    const untrusted = tracer().tracer.requestStarted(request({ traceparent: INCOMING })) as {
      span: { spanContext(): { traceId: string } };
    };
    expect(untrusted.span.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    const trusted = tracer({ trustIncoming: true }).tracer.requestStarted(request({ traceparent: INCOMING })) as typeof untrusted;
    expect(trusted.span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });
});

describe('samplerFor', () => {
  it.each([
    ['always_on', 'AlwaysOnSampler'],
    ['always_off', 'AlwaysOffSampler'],
    ['traceidratio', 'TraceIdRatioBased{0.25}'],
    ['parentbased_always_on', 'ParentBased{root=AlwaysOnSampler'],
    ['parentbased_always_off', 'ParentBased{root=AlwaysOffSampler'],
    ['parentbased_traceidratio', 'ParentBased{root=TraceIdRatioBased{0.25}'],
  ] as const)('%s', (sampler, described) => {
    expect(samplerFor({ sampler, ratio: 0.25 }).toString()).toContain(described);
  });
});
