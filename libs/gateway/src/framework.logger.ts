import { PinoNestLogger } from '#sessiongate/observability';

/**
 * Nest's own start-up narration: module wiring, every route mapped, "started". It is the same on every
 * start and says nothing an operator acts on, so at the default level it would only bury the lines that
 * matter (a warning, the listening address); it stays available at `LOG_LEVEL=debug`.
 */
const START_UP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** Nest's messages in the gateway's log, its start-up narration at debug level. */
export class FrameworkLogger extends PinoNestLogger {
  override log(message: unknown, context?: string): void {
    if (context !== undefined && START_UP_CONTEXTS.has(context)) this.debug(message, context);
    else super.log(message, context);
  }
}
