import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { AdminModule } from '#sessiongate/admin';
import { BffModule } from '#sessiongate/bff';
import { HealthModule } from '#sessiongate/health';
import { ConfigModule, type GatewayConfig } from '#sessiongate/config';
import { type GatewayMetrics, MetricsModule } from '#sessiongate/metrics';
import { ObservabilityModule } from '#sessiongate/observability';
import { ProxyModule } from '#sessiongate/proxy';
import { TokensModule, UserTokenAuthorizer } from '#sessiongate/tokens';

/**
 * The whole gateway: configuration, logging and metrics (global), the /bff endpoints, the /api proxy, and the
 * /admin API when it is on (ADMIN_JWT_AUDIENCE) and not on a port of its own (see AdminGatewayModule).
 */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger, metrics: GatewayMetrics): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot(logger),
        MetricsModule.forRoot(metrics, { watchSessionStore: true }),
        BffModule,
        HealthModule,
        ProxyModule.forRoot({ imports: [TokensModule], authorizer: UserTokenAuthorizer }),
        ...(config.admin && config.admin.port === undefined ? [AdminModule] : []),
      ],
    };
  }
}

/** The admin API alone, for the listener on ADMIN_PORT: nothing else is reachable there. */
@Module({})
export class AdminGatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger, metrics: GatewayMetrics): DynamicModule {
    return {
      module: AdminGatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot(logger),
        MetricsModule.forRoot(metrics, { watchSessionStore: false }),
        AdminModule,
      ],
    };
  }
}
