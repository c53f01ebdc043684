export { GatewayModule } from './gateway.module.js';
export { runGateway } from './gateway.supervisor.js';
export { startGateway, type RunningGateway, type StartGatewayOptions } from './start-gateway.js';
