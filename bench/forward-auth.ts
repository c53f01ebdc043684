import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderForwardAuthSnippet } from '#sessiongate/testing';
import { mainConfig, type NginxBaseline, startNginxProcess } from './nginx-baseline.js';

/**
 * Forward-auth mode (issue 15, docs/FORWARD-AUTH.md) as the benchmark runs it: nginx, one worker, with the
 * documented snippet (deploy/forward-auth/nginx.conf) rendered for the bench's ports and included whole, in
 * front of a gateway started with FORWARD_AUTH_PATH and TRUST_PROXY=127.0.0.1 and of the bench's upstream.
 */

/** The snippet's path for the check (what FORWARD_AUTH_PATH must be for it). */
export const FORWARD_AUTH_PATH = '/bff/forward-auth';

export interface ForwardAuthTargets {
  /** `host:port` of the gateway serving FORWARD_AUTH_PATH. */
  readonly gateway: string;
  /** `host:port` of the upstream API. */
  readonly api: string;
}

/**
 * The snippet inside the same http {} block as the nginx baseline's (one worker, no access log, no cap on requests
 * per client connection); its own upstream blocks (`keepalive 16`) are left as documented.
 */
export function startForwardAuthNginx(binary: string, targets: ForwardAuthTargets): Promise<NginxBaseline> {
  return startNginxProcess(binary, 'nginx-forward-auth', async (dir, port) => {
    const snippet = join(dir, 'forward-auth.conf');
    await writeFile(snippet, renderForwardAuthSnippet('nginx', { ...targets, listen: `127.0.0.1:${port}` }));
    return mainConfig(dir, [`    include ${snippet};`]);
  });
}

/**
 * The headers of the snippet's auth subrequest for a GET of `uri` (`X-Original-*`, `X-Forwarded-*`), beside the
 * browser's own: what a load sent straight at the endpoint from 127.0.0.1 must carry to be asked as nginx asks.
 */
export function checkHeaders(uri: string, host: string, browser: Readonly<Record<string, string>>): Record<string, string> {
  return {
    ...browser,
    'x-original-method': 'GET',
    'x-original-uri': uri,
    'x-forwarded-for': '127.0.0.1',
    'x-forwarded-proto': 'http',
    'x-forwarded-host': host,
  };
}

/** One check before the load: a benchmark of refusals would measure nothing. */
export async function assertCheckSays200(url: string, headers: Readonly<Record<string, string>>): Promise<void> {
  const response = await fetch(url, { headers });
  const body = await response.text();
  if (response.status !== 200 || !response.headers.get('authorization')?.startsWith('Bearer '))
    throw new Error(`${url} answered ${response.status} without a bearer token: ${body.slice(0, 200)}`);
}
