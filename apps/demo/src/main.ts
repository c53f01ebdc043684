import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '#sessiongate/config';
import { DEMO_USERS, startDemo } from '#sessiongate/demo';

// tsc does not copy static files, so from dist/apps/demo/src/main.js they are found in the source tree.
const SPA_DIR = fileURLToPath(new URL('../../../../apps/demo/public', import.meta.url));

/** `npm run demo`: the embedded identity provider, demo API, SPA and gateway in one process. */
try {
  const demo = await startDemo({ SPA_DIR, ...process.env });
  // The first URL in the output is the gateway's (scripts look for it).
  const users = DEMO_USERS.map((user) => `${user.username}/${user.password}`).join(', ');
  process.stdout.write(`\n  Sessiongate demo: open ${demo.url} — users ${users}\n  (identity provider at ${demo.identityProviderUrl})\n\n`);
  const stop = () => void demo.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  if ((error as { code?: unknown }).code === 'EADDRINUSE') {
    console.error(`Port ${process.env.PORT || 3000} is taken: stop what uses it, or run PORT=3100 npm run demo`);
  } else {
    console.error(error instanceof ConfigError ? error.message : error);
  }
  process.exit(1);
}
