import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

export interface RedisFixture {
  readonly url: string;
  readonly port: number;
  /** A plain client for assertions on what the gateway stored. */
  readonly client: Redis;
  /** Kills the server (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (empty: it keeps nothing on disk). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a private redis-server on a free loopback port; tests own it and may kill or restart it. */
export async function startRedis(): Promise<RedisFixture> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sg-redis-'));
  let server = await launch(port, dir);
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const kill = () => killRedis(server);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client,
    kill,
    async restart() {
      await kill();
      server = await launch(port, dir);
    },
    async stop() {
      client.disconnect();
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Its own folder: whatever a redis-server writes (an RDB file) never lands in the current folder, where
// the next one started there would load it.
function launch(port: number, dir: string): Promise<ChildProcess> {
  return launchRedis(['--port', String(port), '--bind', '127.0.0.1', ...keepingNothing(dir)]);
}

/** Runs `redis-server <args>` and waits for the line saying it serves (`ready`; a sentinel says otherwise). */
/** redis-server arguments: its working folder (a temporary one, never the repo), nothing persisted. */
export function keepingNothing(dir: string): string[] {
  return ['--dir', dir, '--save', '', '--appendonly', 'no'];
}

/** redis-server arguments: the default user off, and one ACL user with these key/channel patterns. */
export function onlyAclUser(username: string, password: string, patterns: readonly string[]): string[] {
  return ['--user', 'default', 'off', '--user', username, 'on', `>${password}`, ...patterns, '+@all'];
}

export async function launchRedis(args: readonly string[], ready = 'Ready to accept connections'): Promise<ChildProcess> {
  const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 10_000;
  while (!output.includes(ready)) {
    if (server.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server;
}

/** SIGKILL, as a crash would; resolves once the process is gone. */
export async function killRedis(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGKILL');
  await exited;
}
