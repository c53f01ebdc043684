export { CountOutcome } from './count-outcome.decorator.js';
export { GatewayMetrics, type OutcomeEvent } from './gateway.metrics.js';
export { MetricsModule, type MetricsModuleOptions } from './metrics.module.js';
export { measureEachRequest, serveMetrics } from './request-metrics.js';
