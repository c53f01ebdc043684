import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '#sessiongate/testing';
import type { BareProxyOptions } from './bare-proxy.child.js';

/** nginx as the benchmark runs it: its master and worker process ids (for their CPU time), and how to stop it. */
export interface NginxBaseline {
  readonly name: string;
  readonly url: string;
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

/** The nginx binary to run: `BENCH_NGINX` (`off` for none), else `nginx` on the PATH or Debian's `/usr/sbin/nginx`; undefined when none runs. */
export function findNginx(setting: string | undefined): string | undefined {
  if (setting === 'off') return undefined;
  for (const candidate of setting ? [setting] : ['nginx', '/usr/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * The configuration: one worker, keep-alive to the upstream, no access log, the prefix rewritten as the gateway does.
 * Node's servers put no cap on requests per connection, so neither does nginx here (its default closes after 1,000);
 * and the 100 KB body streams through its buffers rather than a temp file on disk.
 */
function nginxConfig(dir: string, port: number, { upstream, prefix, rewritePrefix }: BareProxyOptions): string {
  return mainConfig(dir, [
    `    upstream bench_upstream { server ${new URL(upstream).host}; keepalive 64; keepalive_requests 1000000; }`,
    '    server {',
    `        listen 127.0.0.1:${port};`,
    `        location ${prefix}/ {`,
    `            proxy_pass http://bench_upstream${rewritePrefix}/;`,
    '            proxy_http_version 1.1;',
    '            proxy_set_header Connection "";',
    '            proxy_max_temp_file_size 0;',
    '        }',
    '    }',
  ]);
}

/**
 * What every nginx of the benchmark shares: one worker, no access log, no cap on requests per client connection,
 * its pid file and temp paths in `dir`; `http` is the rest of the http {} block.
 */
export function mainConfig(dir: string, http: readonly string[]): string {
  return [
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr warn;',
    'events { worker_connections 1024; }',
    'http {',
    '    access_log off;',
    '    keepalive_requests 1000000;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${join(dir, `${kind}_temp`)};`),
    ...http,
    '}',
    '',
  ].join('\n');
}

/** Starts nginx in the foreground with its pid file, temp paths and configuration in a temp dir of its own. */
export function startNginxBaseline(binary: string, options: BareProxyOptions): Promise<NginxBaseline> {
  return startNginxProcess(binary, 'nginx', async (dir, port) => nginxConfig(dir, port, options));
}

/**
 * Runs `binary` in the foreground on a free loopback port with the configuration `configure` writes
 * (as `nginx.conf`, and any files it includes) into a temp dir of its own, removed when it stops.
 */
export async function startNginxProcess(
  binary: string,
  name: string,
  configure: (dir: string, port: number) => Promise<string>,
): Promise<NginxBaseline> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), `sessiongate-bench-${name}-`));
  // Run as root, nginx's worker is nobody: it must reach the temp paths inside this dir.
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'nginx.conf'), await configure(dir, port));
  const master = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [master.stdout!, master.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    await terminate(master);
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await untilAnswering(url, master, () => output);
    return { name, url, pids: [master.pid!, ...(await childrenOf(master.pid!))], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function untilAnswering(url: string, master: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (master.exitCode !== null) throw new Error(`nginx exited with ${master.exitCode}: ${output()}`);
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not answer at ${url}: ${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** The worker processes: every process whose parent is the master (/proc/<pid>/stat, field 4). */
async function childrenOf(parent: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) children.push(Number(entry));
  }
  return children;
}

async function terminate(master: ChildProcess): Promise<void> {
  if (master.exitCode !== null || master.signalCode !== null) return;
  // SIGTERM is nginx's fast shutdown (the load is over); SIGKILL if it lingers.
  const forced = setTimeout(() => master.kill('SIGKILL'), STOP_GRACE_MS);
  master.kill('SIGTERM');
  await once(master, 'exit').finally(() => clearTimeout(forced));
}
