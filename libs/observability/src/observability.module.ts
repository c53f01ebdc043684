import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import { GatewayExceptionFilter } from './gateway-exception.filter.js';

/** Injection token of the root pino logger. */
export const LOGGER = Symbol('LOGGER');

@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: ObservabilityModule,
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
      ],
      exports: [LOGGER],
    };
  }
}
