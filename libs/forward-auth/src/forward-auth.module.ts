import { type DynamicModule, Module } from '@nestjs/common';
import { type ProxyModuleOptions, UPSTREAM_AUTHORIZER } from '#sessiongate/proxy';
import { ForwardAuthRoutes } from './forward-auth.routes.js';

/**
 * Serves the forward-auth endpoint at FORWARD_AUTH_PATH, deciding with the same UpstreamAuthorizer as the
 * /api proxy (give it the same one: its refresh lock and caches are then shared).
 */
@Module({})
export class ForwardAuthModule {
  static forRoot(options: ProxyModuleOptions): DynamicModule {
    return {
      module: ForwardAuthModule,
      imports: options.imports ?? [],
      providers: [{ provide: UPSTREAM_AUTHORIZER, useExisting: options.authorizer }, ForwardAuthRoutes],
    };
  }
}
