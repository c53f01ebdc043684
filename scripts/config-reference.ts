import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_REFERENCE_PATH, configurationReference } from '#sessiongate/config';

// `npm run docs:config`: rewrites docs/CONFIGURATION.md from the settings table (run from dist/scripts).
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
writeFileSync(join(root, CONFIG_REFERENCE_PATH), configurationReference());
process.stdout.write(`wrote ${CONFIG_REFERENCE_PATH}\n`);
