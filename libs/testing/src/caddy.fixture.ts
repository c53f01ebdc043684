import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderForwardAuthSnippet } from './forward-auth-snippet.js';
import { freePort } from './free-port.js';
import { type IngressFixture, runIngress } from './ingress-process.js';
import type { IngressTargets } from './nginx.fixture.js';

/**
 * Starts Debian's caddy on a free loopback port with the documented forward-auth snippet
 * (deploy/forward-auth/Caddyfile) in front of `gateway` and `api` (`host:port`), in the
 * foreground. No admin endpoint, no automatic HTTPS, nothing saved outside its temp dir.
 */
export async function startCaddy(targets: IngressTargets): Promise<IngressFixture> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sessiongate-caddy-'));
  const snippet = renderForwardAuthSnippet('caddy', { ...targets, listen: `http://127.0.0.1:${port}` });
  const global = ['{', '\tadmin off', '\tauto_https off', `\tstorage file_system ${join(dir, 'data')}`, '}', ''].join('\n');
  const file = join(dir, 'Caddyfile');
  await writeFile(file, `${global}\n${snippet}`);
  // Caddy also reads and writes under HOME and the XDG folders: keep them in the temp dir.
  const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data') };
  return runIngress('caddy', 'caddy', ['run', '--config', file, '--adapter', 'caddyfile'], { port, config: snippet, dir, env });
}
