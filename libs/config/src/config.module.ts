import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { GatewayConfig } from './config.types.js';

/** Injection token of the validated, frozen GatewayConfig. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: GATEWAY_CONFIG, useValue: config }],
      exports: [GATEWAY_CONFIG],
    };
  }
}
