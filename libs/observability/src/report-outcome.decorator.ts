import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { OUTCOME_EVENT, OutcomeInterceptor } from './outcome.interceptor.js';
import type { OutcomeEvent } from './telemetry.js';

/** Reports the handler's outcome as the event's (Telemetry.outcome): ok when it completes, else the error code. */
export function ReportOutcome(event: OutcomeEvent): MethodDecorator {
  return applyDecorators(SetMetadata(OUTCOME_EVENT, event), UseInterceptors(OutcomeInterceptor));
}
