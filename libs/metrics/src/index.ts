export { GatewayMetrics } from './gateway.metrics.js';
export { serveMetrics } from './serve-metrics.js';
