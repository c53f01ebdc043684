import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { PinoNestLogger } from '#sessiongate/observability';
import { DemoApiModule } from './demo-api.module.js';
import type { DemoApiOptions } from './demo-api.options.js';

export interface DemoApi {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * The demo's downstream API (Nest, Fastify) on 127.0.0.1: `GET /todos` lists the caller's todos,
 * `POST /todos` adds one, any other path echoes the request. Every request needs a valid access
 * token from the provider, for `options.audience`, with `options.requiredScope`.
 */
export async function startDemoApi(options: DemoApiOptions): Promise<DemoApi> {
  const app = await NestFactory.create<NestFastifyApplication>(DemoApiModule.forRoot(options), new FastifyAdapter(), {
    logger: options.logger ? new PinoNestLogger(options.logger) : false,
    abortOnError: false,
  });
  await app.listen(options.port ?? 0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, stop: () => app.close() };
}
