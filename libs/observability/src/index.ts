export { GatewayError, type GatewayErrorOptions } from './gateway.error.js';
