export { GatewayMetrics } from './gateway.metrics.js';
export { serveMetrics } from './serve-metrics.js';
export { aggregateWorkerMetrics, type MetricsText, workerMetrics } from './cluster.metrics.js';
