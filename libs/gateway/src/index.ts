export { GatewayModule } from './gateway.module.js';
export { startGateway, type RunningGateway, type StartGatewayOptions } from './start-gateway.js';
