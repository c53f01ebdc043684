import { spawn } from 'node:child_process';
import { once } from 'node:events';

const DEFAULT_STOP_GRACE_MS = 3_000;

export interface ServerProcessOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Polled until it answers 2xx. */
  readonly readyUrl: string;
  readonly timeoutMs: number;
  /** How to call it in errors (default: the command). */
  readonly name?: string;
  /** Milliseconds between SIGTERM and SIGKILL on stop (default 3000). */
  readonly stopGraceMs?: number;
}

export interface ServerProcess {
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited after a grace period. */
  stop(): Promise<void>;
}

/**
 * Runs `command` and resolves once `readyUrl` answers 2xx; throws (after stopping it) if it exits
 * first or takes longer than `timeoutMs`.
 */
export async function startServerProcess(command: string, args: readonly string[], options: ServerProcessOptions): Promise<ServerProcess> {
  const name = options.name ?? command;
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const force = setTimeout(() => child.kill('SIGKILL'), options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(force);
  };
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before answering: ${output}`);
    try {
      if ((await fetch(options.readyUrl)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer within ${options.timeoutMs} ms: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { pid: child.pid!, output: () => output, stop };
}
