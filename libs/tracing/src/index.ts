export { GatewayTracer, TraceAttribute, tracerFor } from './gateway.tracer.js';
