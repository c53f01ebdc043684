import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from './project-root.js';
import { startServerProcess } from './server-process.js';

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

export interface ProcessMemory {
  /** Resident set size now, in bytes. */
  readonly rss: number;
  /** The largest resident set size the process has had so far, in bytes. */
  readonly peakRss: number;
}

export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** Read from /proc (Linux): the process's own figures, whatever the test process does meanwhile. */
  memory(): Promise<ProcessMemory>;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after a grace period. */
  stop(): Promise<void>;
}

/**
 * The production entry point (`node dist/apps/gateway/src/main.js`: build first) in a child process
 * of its own, with nothing in its environment but `env` (which must set PORT) and PATH, so that its
 * memory is measured apart from the test's. Resolves once it answers /healthz.
 */
export async function startGatewayProcess(env: Readonly<Record<string, string>>): Promise<GatewayProcess> {
  const root = projectRoot();
  const main = join(root, 'dist/apps/gateway/src/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const url = `http://${env.HOST ?? '127.0.0.1'}:${env.PORT}`;
  const server = await startServerProcess(process.execPath, [main], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    readyUrl: `${url}/healthz`,
    timeoutMs: START_TIMEOUT_MS,
    name: 'the gateway',
    stopGraceMs: STOP_GRACE_MS,
  });
  return {
    url,
    pid: server.pid,
    memory: async () => {
      const status = await readFile(`/proc/${server.pid}/status`, 'utf8');
      const kilobytes = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) * 1024;
      return { rss: kilobytes('VmRSS'), peakRss: kilobytes('VmHWM') };
    },
    output: () => server.output(),
    stop: () => server.stop(),
  };
}
