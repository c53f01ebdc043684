import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '#sessiongate/testing';

// `npm run demo` as a newcomer runs it: the page to open and the users to log in with come first, not
// after Nest's route table and library warnings. Needs `npm run build` first.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEMO = join(root, 'dist/apps/demo/src/main.js');
const START_TIMEOUT_MS = 20_000;
/** Lines that may come before the URL: a real warning (in-process sessions, a Node.js the provider does not support). */
const MAX_LINES_BEFORE_URL = 4;

let child: ChildProcess | undefined;

afterEach(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolveExit) => child!.once('close', resolveExit));
  child.kill('SIGTERM');
  await exited;
});

test('the demo prints its URL and users within its first lines, without framework chatter or deprecations', async () => {
  const port = await freePort();
  child = spawn(process.execPath, [DEMO], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const listening = new RegExp(`Server listening at http://\\S+:${port}`);
  await new Promise<void>((resolveStarted, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const check = () => {
      if (output.includes('Sessiongate demo: open') && listening.test(output)) {
        clearTimeout(timer);
        resolveStarted();
      }
    };
    child!.stdout!.on('data', check);
    child!.stderr!.on('data', check);
    child!.once('close', (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
  });

  const lines = output.split('\n').filter((line) => line.trim() !== '');
  const urlLine = lines.findIndex((line) => line.includes('Sessiongate demo: open'));
  expect(lines[urlLine]).toContain(`open http://localhost:${port}`);
  expect(lines[urlLine]).toContain('alice/alice');
  expect(urlLine).toBeLessThanOrEqual(MAX_LINES_BEFORE_URL);
  expect(output).not.toContain('Mapped {');
  expect(output).not.toContain('dependencies initialized');
  expect(output).not.toContain('FSTDEP');
  expect(output).not.toContain('in-memory adapter');
});
