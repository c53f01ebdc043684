import { Test, type TestingModule } from '@nestjs/testing';
import pino from 'pino';
import { ConfigModule, loadConfig } from '#sessiongate/config';
import { ObservabilityModule } from '#sessiongate/observability';
import { Clock, SessionModule, SessionService } from '#sessiongate/session';

export interface SessionModuleFixture {
  readonly module: TestingModule;
  readonly sessions: SessionService;
  /** Every log line the session capability wrote (from level debug). */
  readonly logs: string[];
}

/**
 * The session capability alone (SessionModule, its stores as the settings choose them), configured
 * by loadConfig(env), optionally on a clock of the test's. Close `module` when done.
 */
export async function startSessionModule(
  env: Record<string, string | undefined>,
  options: { clock?: Clock } = {},
): Promise<SessionModuleFixture> {
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const builder = Test.createTestingModule({
    imports: [ConfigModule.forRoot(loadConfig(env)), ObservabilityModule.forRoot(logger), SessionModule],
  });
  if (options.clock) builder.overrideProvider(Clock).useValue(options.clock);
  const module = await builder.compile();
  return { module, sessions: module.get(SessionService), logs };
}
