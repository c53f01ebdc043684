import { type DynamicModule, Global, Module } from '@nestjs/common';
import { SessionModule, SessionRecordStore, StoreBackend } from '#sessiongate/session';
import { GatewayMetrics } from './gateway.metrics.js';

/** Provided for its effect only: the store's metrics are then read when scraped. */
const STORE_METRICS = Symbol('STORE_METRICS');

export interface MetricsModuleOptions {
  /** Report this application's session store (sessions, failures): once per process, from the main listener. */
  readonly watchSessionStore: boolean;
}

/** Provides the process's GatewayMetrics to every module (global, like the logger). */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(metrics: GatewayMetrics, options: MetricsModuleOptions): DynamicModule {
    const watch = {
      provide: STORE_METRICS,
      inject: [StoreBackend, SessionRecordStore],
      useFactory: (store: StoreBackend, sessions: SessionRecordStore) => metrics.watchStore(store, sessions),
    };
    return {
      module: MetricsModule,
      imports: options.watchSessionStore ? [SessionModule] : [],
      providers: [{ provide: GatewayMetrics, useValue: metrics }, ...(options.watchSessionStore ? [watch] : [])],
      exports: [GatewayMetrics],
    };
  }
}
