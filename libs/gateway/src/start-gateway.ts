import fastifyStatic from '@fastify/static';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { requireAdminBearer, setupAdminDocs } from '#sessiongate/admin';
import type { GatewayConfig } from '#sessiongate/config';
import { GatewayMetrics, serveMetrics, workerMetrics } from '#sessiongate/metrics';
import {
  answerClientError,
  combineTelemetry,
  createLogger,
  declareRequestFields,
  ErrorCode,
  GatewayError,
  isApiPath,
  logEachRequest,
  reportEachRequest,
  requestIdFor,
  requestLoggerFactory,
  requestPath,
  sendError,
  type Telemetry,
} from '#sessiongate/observability';
import { crossOriginHook, proxyTrust } from '#sessiongate/http';
import { type GatewayTracer, tracerFor } from '#sessiongate/tracing';
import { FrameworkLogger } from './framework.logger.js';
import { AdminGatewayModule, GatewayModule } from './gateway.module.js';

/** How often, while shutting down, connections that have just fallen idle are closed. */
const IDLE_SWEEP_MS = 100;

export interface StartGatewayOptions {
  readonly logger?: Logger;
  /** A worker of GATEWAY_WORKERS: /metrics serves every worker's metrics, added up by the primary. */
  readonly clusterWorker?: boolean;
}

export interface RunningGateway {
  readonly app: NestFastifyApplication;
  /** Where the gateway listens (its PUBLIC_URL may differ behind a reverse proxy). */
  readonly url: string;
  /** Where /admin is served: `url`, the ADMIN_PORT listener, or undefined when the admin API is off. */
  readonly adminUrl: string | undefined;
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: StartGatewayOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = new GatewayMetrics(config.routes);
  const scraped = options.clusterWorker ? workerMetrics(metrics) : metrics;
  // No tracer without an OTLP endpoint: the metrics alone are then used as they are, with no fan-out.
  const tracer = tracerFor(config, logger);
  const telemetry = combineTelemetry(tracer ? [metrics, tracer] : [metrics]);
  const app = await createApp(GatewayModule.forRoot(config, logger, telemetry), config, logger, telemetry, tracer);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', crossOriginHook(config.publicUrl.origin, config.corsAllowedOrigins));
  // Helmet's defaults on everything the gateway itself serves (the SPA, /bff, /admin, its errors). The
  // proxied API responses' headers are the API's, and /api is the hot path: there Helmet does no work at all
  // (@fastify/helmet would build its configuration on every request, skipped routes included). Nor on the
  // forward-auth check, as hot, whose answers carry no such headers anyway (ForwardAuthRoutes strips them).
  const securityHeaders = helmet({ strictTransportSecurity: config.publicUrl.protocol === 'https:' });
  fastify.addHook('onRequest', (request, reply, done) => {
    const path = requestPath(request);
    if (isApiPath(path) || path === config.forwardAuthPath) done();
    else securityHeaders(request.raw, reply.raw, () => done());
  });
  if (config.spaDir) await app.register(fastifyStatic, { root: config.spaDir, prefix: '/' });
  if (config.admin && config.admin.port === undefined) serveAdmin(app);
  // Beside /admin when it has a port of its own (off the public network), else on the main port.
  if (config.metrics.enabled && !config.admin?.port) serveMetrics(fastify, scraped);
  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    // A start refused during init (a provider's discovery naming a setting) must not leave Redis connections open behind it.
    await app.close().catch(() => undefined);
    throw error;
  }
  const url = listeningUrl(app, config.host, config.port);
  if (!config.admin?.port) {
    return { app, url, adminUrl: config.admin ? url : undefined, close: () => closeGracefully(app).finally(() => tracer?.shutdown()) };
  }

  // A listener of its own lets operators keep /admin off the public network (firewall, internal
  // Service) while the public port simply has no /admin. It is a second Nest application in the same
  // process, with its own Redis connection and provider discovery, sharing only config, logger and telemetry.
  const admin = await createApp(AdminGatewayModule.forRoot(config, logger, telemetry), config, logger, telemetry, tracer).catch(
    async (error: unknown) => {
      await app.close();
      throw error;
    },
  );
  serveAdmin(admin);
  if (config.metrics.enabled) serveMetrics(admin.getHttpAdapter().getInstance(), scraped);
  try {
    await admin.listen(config.admin.port, config.host);
  } catch (error) {
    await Promise.all([app.close(), admin.close()]);
    throw error;
  }
  return {
    app,
    url,
    adminUrl: listeningUrl(admin, config.host, config.admin.port),
    close: async () => {
      try {
        await Promise.all([closeGracefully(app), closeGracefully(admin)]);
      } finally {
        // The spans of the last requests, which only ended as the listeners closed.
        await tracer?.shutdown();
      }
    },
  };
}

/** A Nest application on Fastify with the gateway's logging, request ids, error shape and caching rules. */
function serveAdmin(app: NestFastifyApplication): void {
  app.getHttpAdapter().getInstance().addHook('onRequest', requireAdminBearer);
  setupAdminDocs(app);
}

async function createApp(
  module: DynamicModule,
  config: GatewayConfig,
  logger: Logger,
  telemetry: Telemetry,
  tracer: GatewayTracer | undefined,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // request.ip (rate limits, X-Forwarded-For upstream, a session's recorded address) follows
    // X-Forwarded-For only through the listed proxies: anyone else could claim any address.
    trustProxy: proxyTrust(config.trustProxy),
    // Fastify's own per-request lines are off: logEachRequest writes the one request line.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: requestLoggerFactory,
    genReqId: requestIdFor,
    return503OnClosing: true,
    // Errors Fastify raises before routing (a malformed URL, a bad header) get the same JSON shape.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      sendError(request, reply, new GatewayError(ErrorCode.BadRequest, { detail: error.message })),
    // ... and so do requests Node's HTTP parser refuses before Fastify sees them.
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: new FrameworkLogger(logger),
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  declareRequestFields(fastify);
  logEachRequest(fastify, logger);
  reportEachRequest(fastify, telemetry);
  fastify.addHook('onRequest', (request, reply, done) => {
    request.telemetryHandle = telemetry.requestStarted(request);
    reply.header('x-request-id', request.id);
    // Nothing the gateway itself answers under /bff or /admin may be cached: user and session data, redirects with state.
    const path = requestPath(request);
    if (path.startsWith('/bff/') || path.startsWith('/admin/')) reply.header('cache-control', 'no-store');
    done();
  });
  // Right after the hook above, which started the request's span: every later step runs inside it.
  tracer?.instrument(fastify);
  return app;
}

function listeningUrl(app: NestFastifyApplication, configuredHost: string, configuredPort: number): string {
  const address = app.getHttpAdapter().getInstance().server.address();
  const port = typeof address === 'object' && address ? address.port : configuredPort;
  const host = configuredHost.includes(':') ? `[${configuredHost}]` : configuredHost === '0.0.0.0' ? '127.0.0.1' : configuredHost;
  return `http://${host}:${port}`;
}

/**
 * Stops accepting and waits for in-flight requests (streams included). A keep-alive connection
 * whose last response ends during the wait would otherwise hold the close until the client hangs
 * up: such connections are closed as soon as they fall idle.
 */
async function closeGracefully(app: NestFastifyApplication): Promise<void> {
  const server = app.getHttpServer();
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}
