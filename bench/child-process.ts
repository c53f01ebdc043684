import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';

/**
 * Every server under test runs in a child process of its own: the load generator (autocannon, in the
 * parent) never shares an event loop with what it measures, each server's RSS is its own, and the bare
 * proxy and the gateway are measured in exactly the same arrangement. Parent and child talk over the IPC
 * channel: `start` (payload: what the child needs) answers the URL it listens on, then `memory`,
 * `stats`, `profile-start`, `profile-stop` and `stop`.
 */

interface Call {
  readonly id: number;
  readonly type: string;
  readonly payload?: unknown;
}

interface Answer {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
}

export interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  call<T>(type: string, payload?: unknown): Promise<T>;
  memory(): Promise<Memory>;
  stop(): Promise<void>;
}

/** Lines of a child's output shown before the rest is only counted: a chatty server must not flood the table. */
const SHOWN_OUTPUT_LINES = 20;
const STOP_GRACE_MS = 5_000;

export async function startChild(name: string, script: URL, payload: unknown): Promise<ChildHandle> {
  const child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  forwardOutput(name, child);
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  child.on('message', (message: Answer) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(`${name}: ${message.error}`));
    else waiter.resolve(message.result);
  });
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited (${signal ?? code})`));
    pending.clear();
  });
  const call = <T>(type: string, callPayload?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(new Error(`${name} is not running`));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, type, payload: callPayload } satisfies Call);
    });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      try {
        await call('stop');
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
      clearTimeout(force);
    })());
  try {
    const url = await call<string>('start', payload);
    return { name, pid: child.pid!, url, call, memory: () => call<Memory>('memory'), stop };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

function forwardOutput(name: string, child: ChildProcess): void {
  let shown = 0;
  let hidden = 0;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (shown++ < SHOWN_OUTPUT_LINES) process.stderr.write(`[${name}] ${line}\n`);
      else hidden++;
    });
  }
  child.once('exit', () => {
    if (hidden > 0) process.stderr.write(`[${name}] ... and ${hidden} more lines of output\n`);
  });
}

export interface ChildServer {
  /** Starts the server and returns the URL it listens on. */
  start(payload: unknown): Promise<string>;
  stop(): Promise<void>;
  /** Extra calls (e.g. `stats`). */
  readonly calls?: Readonly<Record<string, (payload: unknown) => unknown>>;
}

/** The child's side: answers the parent's calls, and exits when the parent goes away (it never outlives the benchmark). */
export function serveChild(server: ChildServer): void {
  let profiler: Session | undefined;
  const handlers: Record<string, (payload: unknown) => unknown> = {
    start: (payload) => server.start(payload),
    // After a full collection: what is still reachable, not garbage a busy heap has yet to collect.
    memory: async (): Promise<Memory> => {
      const session = new Session();
      session.connect();
      await session.post('HeapProfiler.collectGarbage');
      session.disconnect();
      const { rss, heapUsed, external } = process.memoryUsage();
      return { rss, heapUsed, external };
    },
    'profile-start': async () => {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    },
    'profile-stop': async (file) => {
      if (!profiler) throw new Error('no profile running');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      await writeFile(String(file), JSON.stringify(profile));
    },
    stop: () => server.stop(),
    ...server.calls,
  };
  process.on('message', (message: Call) => {
    const handler = handlers[message.type];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown call ${message.type}`);
        const result = await handler(message.payload);
        // After `stop` the child has nothing left to do; it exits once the answer is on its way.
        process.send!({ id: message.id, result } satisfies Answer, () => message.type === 'stop' && process.exit(0));
      } catch (error) {
        process.send!({ id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies Answer);
      }
    })();
  });
  process.once('disconnect', () => process.exit(0));
}

/** For the `node:http` children: listens on a free loopback port and answers the URL. */
export async function listenOnLoopback(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes a `node:http` child's server, keep-alive connections included (a benchmark leaves many open). */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
}
