import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './project-root.js';

/**
 * Fails as soon as a committed generated document (`path` from the repository root) differs from
 * what its generator writes, naming the first line that differs and the command that rewrites it.
 */
export function expectGeneratedDocCommitted(path: string, generated: string, command: string): void {
  const committed = readFileSync(join(projectRoot(), path), 'utf8');
  if (committed !== generated) {
    const lines = committed.split('\n');
    const first = generated.split('\n').findIndex((line, index) => line !== lines[index]);
    throw new Error(`${path} is out of date (first difference at line ${first + 1}): run \`${command}\` and commit the result`);
  }
}
