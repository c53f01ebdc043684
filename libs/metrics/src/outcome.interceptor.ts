import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, tap } from 'rxjs';
import { GatewayMetrics, type OutcomeEvent, outcomeOf } from './gateway.metrics.js';

export const OUTCOME_EVENT = 'sessiongate:outcome-event';

/** See CountOutcome. Guards run first: a caller they refuse is not an outcome of the endpoint. */
@Injectable()
export class OutcomeInterceptor implements NestInterceptor {
  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const event = this.reflector.get<OutcomeEvent>(OUTCOME_EVENT, context.getHandler());
    return next.handle().pipe(
      tap({
        complete: () => this.metrics.countOutcome(event, 'ok'),
        error: (error: unknown) => this.metrics.countOutcome(event, outcomeOf(error)),
      }),
    );
  }
}
