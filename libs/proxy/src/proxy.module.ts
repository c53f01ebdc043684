import { type DynamicModule, type InjectionToken, Module, type ModuleMetadata } from '@nestjs/common';
import { ProxyRoutes } from './proxy.routes.js';
import { UPSTREAM_AUTHORIZER, type UpstreamAuthorizer } from './upstream-authorizer.js';
import { WebSocketProxy } from './websocket.proxy.js';

export interface ProxyModuleOptions {
  /** The modules that export the authorizer. */
  readonly imports?: ModuleMetadata['imports'];
  /** The UpstreamAuthorizer to use: its class or injection token. */
  readonly authorizer: InjectionToken<UpstreamAuthorizer>;
}

/**
 * Serves `/api/<prefix>/*` from the configured routes (GatewayConfig `routes`), with the authorizer's
 * credentials, and WebSockets on the routes that allow them; exports WebSocketProxy for its `closeSession`.
 */
@Module({})
export class ProxyModule {
  static forRoot(options: ProxyModuleOptions): DynamicModule {
    return {
      module: ProxyModule,
      imports: options.imports ?? [],
      providers: [{ provide: UPSTREAM_AUTHORIZER, useExisting: options.authorizer }, ProxyRoutes, WebSocketProxy],
      exports: [WebSocketProxy],
    };
  }
}
