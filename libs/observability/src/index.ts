export { sendError, toGatewayError, writeError, type ErrorBody } from './error-response.js';
export {
  CLOSE_REASONS,
  type CloseReason,
  ERROR_CATALOGUE,
  ErrorCode,
  type ErrorDefinition,
  type ErrorVariant,
  type ExplainedErrorCode,
  type RetryableErrorCode,
} from './error-catalogue.js';
export { ERROR_REFERENCE_PATH, errorReference } from './error-reference.js';
export { GatewayError, type GatewayErrorOptions } from './gateway.error.js';
export { createLogger, type LoggerOptions } from './logger.js';
export { LOGGER, ObservabilityModule } from './observability.module.js';
export { PinoNestLogger } from './pino-nest.logger.js';
export { requestIdFor } from './request-id.js';
export { RequestLogger, requestLoggerFactory } from './request.logger.js';
export { type CompletedRequest, logCompletedRequest, logEachRequest } from './request-logging.js';
export { answerClientError } from './client-error.js';
export { declareRequestFields, isApiPath, requestPath, routeLabel } from './request-fields.js';
export { endSocketWithError } from './socket-error.js';
export {
  outcomeOf,
  Telemetry,
  type ObservedRequest,
  type ObservedSessionStore,
  type OutcomeEvent,
  type SessionReadSource,
  type TelemetryHandle,
  type TokenGrant,
} from './telemetry.js';
export { NoopTelemetry } from './noop.telemetry.js';
export { combineTelemetry, CompositeTelemetry } from './composite.telemetry.js';
export { TelemetryModule } from './telemetry.module.js';
export { reportEachRequest } from './request-telemetry.js';
export { ReportOutcome } from './report-outcome.decorator.js';
