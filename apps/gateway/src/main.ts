import 'reflect-metadata';
import { ConfigError, loadConfig } from '#sessiongate/config';
import { startGateway } from '#sessiongate/gateway';

try {
  const gateway = await startGateway(loadConfig(process.env));
  const shutdown = () => void gateway.close().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (error) {
  // Configuration and discovery problems are the operator's to fix: one readable message, no stack.
  const message = error instanceof ConfigError || (error instanceof Error && /^[A-Z_]+: /.test(error.message)) ? error.message : error;
  console.error(message);
  process.exit(1);
}
