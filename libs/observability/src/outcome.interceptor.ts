import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, tap } from 'rxjs';
import { type OutcomeEvent, outcomeOf, Telemetry } from './telemetry.js';

export const OUTCOME_EVENT = 'sessiongate:outcome-event';

/** See ReportOutcome. Guards run first: a caller they refuse is not an outcome of the endpoint. */
@Injectable()
export class OutcomeInterceptor implements NestInterceptor {
  constructor(
    private readonly telemetry: Telemetry,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const event = this.reflector.get<OutcomeEvent>(OUTCOME_EVENT, context.getHandler());
    return next.handle().pipe(
      tap({
        complete: () => this.telemetry.outcome(event, 'ok'),
        error: (error: unknown) => this.telemetry.outcome(event, outcomeOf(error)),
      }),
    );
  }
}
