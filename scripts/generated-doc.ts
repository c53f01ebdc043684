import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Rewrites a generated document, `path` from the repository root (the scripts run from dist/scripts). */
export function writeGeneratedDoc(path: string, text: string): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  writeFileSync(join(root, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
