import { type DynamicModule, Global, Module } from '@nestjs/common';
import { NoopTelemetry } from './noop.telemetry.js';
import { Telemetry } from './telemetry.js';

/** Provides the process's Telemetry to every module (global, like the logger); none given, nothing is reported. */
@Global()
@Module({})
export class TelemetryModule {
  static forRoot(telemetry: Telemetry = new NoopTelemetry()): DynamicModule {
    return { module: TelemetryModule, providers: [{ provide: Telemetry, useValue: telemetry }], exports: [Telemetry] };
  }
}
