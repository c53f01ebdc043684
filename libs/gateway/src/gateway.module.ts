import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { AdminConsoleModule, AdminModule } from '#sessiongate/admin';
import { BffModule } from '#sessiongate/bff';
import { HealthModule } from '#sessiongate/health';
import { ConfigModule, type GatewayConfig } from '#sessiongate/config';
import { ConnectionsModule } from '#sessiongate/connections';
import { ForwardAuthModule } from '#sessiongate/forward-auth';
import { ObservabilityModule, Telemetry, TelemetryModule } from '#sessiongate/observability';
import { ProxyModule } from '#sessiongate/proxy';
import { SessionModule, SessionRecordStore, StoreBackend } from '#sessiongate/session';
import { TokensModule, UserTokenAuthorizer } from '#sessiongate/tokens';

/** Provided for its effect only: the session store is then reported to Telemetry (read when metrics are scraped). */
const REPORTED_SESSION_STORE = Symbol('REPORTED_SESSION_STORE');

/**
 * The whole gateway: configuration, logging and telemetry (global), the /bff endpoints, the /api proxy, the
 * forward-auth endpoint when FORWARD_AUTH_PATH is set, and the /admin API when it is on (ADMIN_JWT_AUDIENCE)
 * and not on a port of its own (see AdminGatewayModule).
 */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger, telemetry: Telemetry): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot(logger),
        TelemetryModule.forRoot(telemetry),
        SessionModule,
        BffModule,
        ConnectionsModule,
        HealthModule,
        ProxyModule.forRoot({ imports: [TokensModule], authorizer: UserTokenAuthorizer }),
        ...(config.forwardAuthPath ? [ForwardAuthModule.forRoot({ imports: [TokensModule], authorizer: UserTokenAuthorizer })] : []),
        ...(config.admin && config.admin.port === undefined ? adminModules(config) : []),
      ],
      // Once per process, from the main listener: the admin listener's store is a second connection to the same one.
      providers: [
        {
          provide: REPORTED_SESSION_STORE,
          inject: [StoreBackend, SessionRecordStore, Telemetry],
          useFactory: (backend: StoreBackend, records: SessionRecordStore, reported: Telemetry) =>
            reported.sessionStoreOpened({
              kind: backend.kind,
              countSessions: () => records.count(),
              get failures() {
                return backend.failures;
              },
            }),
        },
      ],
    };
  }
}

/** The admin API (and its console) alone, for the listener on ADMIN_PORT: nothing else is reachable there. */
@Module({})
export class AdminGatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger, telemetry: Telemetry): DynamicModule {
    return {
      module: AdminGatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot(logger),
        TelemetryModule.forRoot(telemetry),
        ...adminModules(config),
      ],
    };
  }
}

/** The admin API, and its console when ADMIN_CONSOLE_REQUIRE turns it on: always on the same listener. */
function adminModules(config: GatewayConfig): DynamicModule['imports'] & object {
  return config.admin?.consoleRequire ? [AdminModule, AdminConsoleModule] : [AdminModule];
}
