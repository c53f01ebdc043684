import { CONFIG_REFERENCE_PATH, configurationReference } from '#sessiongate/config';
import { writeGeneratedDoc } from './generated-doc.js';

// `npm run docs:config`: rewrites docs/CONFIGURATION.md from the settings table.
writeGeneratedDoc(CONFIG_REFERENCE_PATH, configurationReference());
