import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SnippetTargets, renderForwardAuthSnippet } from './forward-auth-snippet.js';
import { freePort } from './free-port.js';
import { type IngressFixture, runIngress } from './ingress-process.js';

export type IngressTargets = Pick<SnippetTargets, 'gateway' | 'api'>;

/**
 * Starts Debian's nginx on a free loopback port with the documented forward-auth snippet
 * (deploy/forward-auth/nginx.conf) in front of `gateway` and `api` (`host:port`). One worker, in
 * the foreground, with its pid file, logs and temp paths in its own temp dir.
 */
export async function startNginx(targets: IngressTargets): Promise<IngressFixture> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sessiongate-nginx-'));
  // Run as root, nginx's worker is nobody: it must reach the temp paths inside this dir.
  await chmod(dir, 0o755);
  const snippet = renderForwardAuthSnippet('nginx', { ...targets, listen: `127.0.0.1:${port}` });
  const config = [
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr warn;',
    'events { worker_connections 256; }',
    'http {',
    `    access_log ${join(dir, 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${join(dir, `${kind}_temp`)};`),
    `    include ${join(dir, 'forward-auth.conf')};`,
    '}',
    '',
  ].join('\n');
  await writeFile(join(dir, 'forward-auth.conf'), snippet);
  await writeFile(join(dir, 'nginx.conf'), config);
  return runIngress('nginx', 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'], {
    port,
    config: snippet,
    dir,
  });
}
