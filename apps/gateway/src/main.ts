import 'reflect-metadata';
import { ConfigError, loadConfig } from '#sessiongate/config';
import { runGateway } from '#sessiongate/gateway';

try {
  await runGateway(loadConfig(process.env));
} catch (error) {
  // Configuration and discovery problems are the operator's to fix: one readable message, no stack.
  const message = error instanceof ConfigError || (error instanceof Error && /^[A-Z_]+: /.test(error.message)) ? error.message : error;
  console.error(message);
  process.exit(1);
}
