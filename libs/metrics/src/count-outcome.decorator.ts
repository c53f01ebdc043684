import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import type { OutcomeEvent } from './gateway.metrics.js';
import { OUTCOME_EVENT, OutcomeInterceptor } from './outcome.interceptor.js';

/** Counts the handler's outcomes in the event's counter: ok when it completes, else the error code. */
export function CountOutcome(event: OutcomeEvent): MethodDecorator {
  return applyDecorators(SetMetadata(OUTCOME_EVENT, event), UseInterceptors(OutcomeInterceptor));
}
