#!/usr/bin/env node
import 'reflect-metadata';
import { runCli } from '#sessiongate/cli';

// `sessiongate`: break-glass session administration on Redis (see `sessiongate --help`).
try {
  process.exitCode = await runCli(process.argv.slice(2), process.env, {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
  });
} catch (error) {
  process.stderr.write(`sessiongate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
