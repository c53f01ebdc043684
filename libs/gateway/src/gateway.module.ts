import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { BffModule } from '#sessiongate/bff';
import { ConfigModule, type GatewayConfig } from '#sessiongate/config';
import { ObservabilityModule } from '#sessiongate/observability';
import { ProxyModule } from '#sessiongate/proxy';
import { TokensModule, UserTokenAuthorizer } from '#sessiongate/tokens';

/** The whole gateway: configuration and logging (global), the /bff endpoints and the /api proxy. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot(logger),
        BffModule,
        ProxyModule.forRoot({ imports: [TokensModule], authorizer: UserTokenAuthorizer }),
      ],
    };
  }
}
