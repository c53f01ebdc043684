import fastifyStatic from '@fastify/static';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from '#sessiongate/config';
import { createLogger, GatewayError, logEachRequest, PinoNestLogger, requestIdFor, sendError } from '#sessiongate/observability';
import { GatewayModule } from './gateway.module.js';

export interface StartGatewayOptions {
  readonly logger?: Logger;
}

export interface RunningGateway {
  readonly app: NestFastifyApplication;
  /** Where the gateway listens (its PUBLIC_URL may differ behind a reverse proxy). */
  readonly url: string;
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: StartGatewayOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    disableRequestLogging: true,
    genReqId: requestIdFor,
    return503OnClosing: true,
    // Errors Fastify raises before routing (a malformed URL, a bad header) get the same JSON shape.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      sendError(request, reply, new GatewayError('bad_request', 400, 'The request is malformed.', { detail: error.message })),
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config, logger), adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  logEachRequest(fastify);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // Nothing the gateway itself answers under /bff may be cached: user data, redirects with state.
    if (request.url.startsWith('/bff/')) reply.header('cache-control', 'no-store');
    done();
  });
  if (config.spaDir) await app.register(fastifyStatic, { root: config.spaDir, prefix: '/' });
  await app.listen(config.port, config.host);
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}
