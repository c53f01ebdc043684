import { existsSync, readFileSync } from 'node:fs';

/**
 * The console's static files: plain HTML, CSS and JavaScript, no build step. Beside the sources
 * (libs/admin/src/console → ../../public) or, compiled, from dist/libs/admin/src/console back to them.
 */
const PUBLIC_DIR = [
  new URL('../../public/console/', import.meta.url),
  new URL('../../../../../libs/admin/public/console/', import.meta.url),
].find((folder) => existsSync(new URL('index.html', folder)));

export interface ConsoleAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * The page's own policy, on whichever listener serves it (the ADMIN_PORT one has no Helmet): its
 * own scripts and styles only, its own JSON calls only, never framed, no referrer.
 */
export const CONSOLE_PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
} as const;

export type ConsoleFile = keyof typeof FILES;

/** Read once, at start-up: a missing file stops the start rather than the first operator. */
export function loadConsoleAssets(): ReadonlyMap<ConsoleFile, ConsoleAsset> {
  if (PUBLIC_DIR === undefined)
    throw new Error('ADMIN_CONSOLE_REQUIRE: the console files (libs/admin/public/console) are missing from this installation');
  const folder = PUBLIC_DIR;
  return new Map(
    (Object.entries(FILES) as [ConsoleFile, string][]).map(([name, contentType]) => [
      name,
      { contentType, body: readFileSync(new URL(name, folder)) },
    ]),
  );
}
