import 'reflect-metadata';
import { ConfigError, loadConfig } from '#sessiongate/config';
import { startGateway } from '#sessiongate/gateway';

try {
  const config = loadConfig(process.env);
  const gateway = await startGateway(config);
  // Stop accepting, let in-flight requests (streams included) finish, close Redis; bounded, so a
  // stuck client cannot hold the process past the orchestrator's own kill timeout.
  const shutdown = () => {
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    void gateway.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (error) {
  // Configuration and discovery problems are the operator's to fix: one readable message, no stack.
  const message = error instanceof ConfigError || (error instanceof Error && /^[A-Z_]+: /.test(error.message)) ? error.message : error;
  console.error(message);
  process.exit(1);
}
