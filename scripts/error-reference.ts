import { ERROR_REFERENCE_PATH, errorReference } from '#sessiongate/observability';
import { writeGeneratedDoc } from './generated-doc.js';

// `npm run docs:errors`: rewrites docs/ERRORS.md from the error catalogue.
writeGeneratedDoc(ERROR_REFERENCE_PATH, errorReference());
