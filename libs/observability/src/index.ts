export { sendError, toGatewayError, type ErrorBody } from './error-response.js';
export { GatewayError, type GatewayErrorOptions } from './gateway.error.js';
export { createLogger, type LoggerOptions } from './logger.js';
export { LOGGER, ObservabilityModule } from './observability.module.js';
export { PinoNestLogger } from './pino-nest.logger.js';
export { requestIdFor } from './request-id.js';
export { logEachRequest } from './request-logging.js';
export { answerClientError } from './client-error.js';
export { endSocketWithError } from './socket-error.js';
