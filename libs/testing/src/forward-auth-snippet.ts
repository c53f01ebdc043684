import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './project-root.js';

/** The ingresses whose documented forward-auth snippet lives in deploy/forward-auth/. */
export type IngressKind = 'nginx' | 'caddy';

/** What a snippet's placeholders stand for: loopback `host:port` pairs in the fixtures. */
export interface SnippetTargets {
  /** `__GATEWAY__`: the gateway (SPA, /bff/* and the forward-auth endpoint). */
  readonly gateway: string;
  /** `__API__`: the upstream API that /api/* reaches after the auth answer. */
  readonly api: string;
  /** `__LISTEN__`: where the ingress listens. */
  readonly listen: string;
}

const SNIPPET_FILES: Record<IngressKind, string> = {
  nginx: 'deploy/forward-auth/nginx.conf',
  caddy: 'deploy/forward-auth/Caddyfile',
};

/** The repository path of an ingress's snippet, the file docs/FORWARD-AUTH.md quotes. */
export function forwardAuthSnippetPath(kind: IngressKind): string {
  return SNIPPET_FILES[kind];
}

/** The snippet exactly as documented, placeholders and all. */
export function forwardAuthSnippet(kind: IngressKind): string {
  return readFileSync(join(projectRoot(), SNIPPET_FILES[kind]), 'utf8');
}

/** The documented snippet with its placeholders filled in; throws if one is left or missing. */
export function renderForwardAuthSnippet(kind: IngressKind, targets: SnippetTargets): string {
  const template = forwardAuthSnippet(kind);
  for (const placeholder of ['__GATEWAY__', '__API__', '__LISTEN__']) {
    if (!template.includes(placeholder)) throw new Error(`${SNIPPET_FILES[kind]} lost its ${placeholder} placeholder`);
  }
  const rendered = template
    .replaceAll('__GATEWAY__', targets.gateway)
    .replaceAll('__API__', targets.api)
    .replaceAll('__LISTEN__', targets.listen);
  const left = /__[A-Z]+__/.exec(rendered);
  if (left) throw new Error(`${SNIPPET_FILES[kind]} has an unknown placeholder ${left[0]}`);
  return rendered;
}
