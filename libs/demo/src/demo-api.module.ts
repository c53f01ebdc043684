import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AccessTokenStrategy } from './access-token.strategy.js';
import { BearerGuard } from './bearer.guard.js';
import { DEMO_API_OPTIONS, type DemoApiOptions } from './demo-api.options.js';
import { EchoController } from './echo.controller.js';
import { SensitiveController } from './sensitive.controller.js';
import { TodoStore } from './todo.store.js';
import { TodosController } from './todos.controller.js';

@Module({})
export class DemoApiModule {
  static forRoot(options: DemoApiOptions): DynamicModule {
    return {
      module: DemoApiModule,
      imports: [PassportModule],
      // Before the echo controller, whose catch-all route would otherwise take /sensitive.
      controllers: [TodosController, SensitiveController, EchoController],
      providers: [
        { provide: DEMO_API_OPTIONS, useValue: options },
        { provide: APP_GUARD, useClass: BearerGuard },
        AccessTokenStrategy,
        TodoStore,
      ],
    };
  }
}
