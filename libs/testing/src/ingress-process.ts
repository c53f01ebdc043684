import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';

/** A reverse proxy from Debian's packages running in the foreground, for the ingress fixtures. */
export interface IngressFixture {
  /** `http://127.0.0.1:<port>`, where the browser would talk to the ingress. */
  readonly url: string;
  readonly port: number;
  /** The configuration it runs with, the documented snippet filled in. */
  readonly config: string;
  /** Its stdout and stderr so far (nginx's error log goes to stderr), for failure messages. */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its temp dir. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

/**
 * Spawns `command`, waits until it accepts TCP connections on `port`, and returns the fixture.
 * A connection accepted means the listening socket is bound; both servers bind only once their
 * configuration is loaded.
 */
export async function runIngress(
  name: string,
  command: string,
  args: readonly string[],
  options: { port: number; config: string; dir: string; env?: NodeJS.ProcessEnv },
): Promise<IngressFixture> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const stop = async () => {
    await terminate(child);
    await rm(options.dir, { recursive: true, force: true });
  };
  try {
    await spawned;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await accepts(options.port))) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`${name} did not start listening on ${options.port}: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${options.port}`, port: options.port, config: options.config, output: () => output, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
