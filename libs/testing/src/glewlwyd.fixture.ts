import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { freePort } from './free-port.js';
import { projectRoot } from './project-root.js';
import { type ServerProcess, startServerProcess } from './server-process.js';

const START_TIMEOUT_MS = 10_000;

export const GLEWLWYD_CLIENT_ID = 'sessiongate';
export const GLEWLWYD_CLIENT_SECRET = 'interop-gateway-secret';
export const GLEWLWYD_USER = 'alice';
export const GLEWLWYD_PASSWORD = 'alice-interop-password';

export interface GlewlwydOptions {
  /** The gateway's PUBLIC_URL: the client's redirect, post-logout and back-channel logout URIs hang off it. */
  readonly gatewayUrl: string;
  /** Access-token lifetime at the provider, in seconds (default 3600). */
  readonly accessTokenSeconds?: number;
  /** RFC 8707 resources the client may ask for (Glewlwyd takes only https:// or http://localhost ones). */
  readonly resources?: readonly string[];
}

export interface GlewlwydFixture {
  /** http://127.0.0.1:<port>: the login page and the admin API. */
  readonly url: string;
  /** The OIDC plugin's issuer (`<url>/api/oidc`). */
  readonly issuer: string;
  /** Its temporary folder (database, configuration, key, web app). */
  readonly folder: string;
  /** Everything it logged so far. */
  output(): string;
  /** SIGTERM, SIGKILL after a grace period, then the folder is removed. */
  stop(): Promise<void>;
}

/**
 * A private Glewlwyd (Debian's `glewlwyd` package) on a free loopback port, configured by
 * scripts/interop/glewlwyd.sh: the gateway as a confidential client, one user with a password, the
 * scopes openid profile email offline_access. Its sqlite database lives in a temporary folder.
 */
export async function startGlewlwyd(options: GlewlwydOptions): Promise<GlewlwydFixture> {
  const script = join(projectRoot(), 'scripts/interop/glewlwyd.sh');
  const folder = await mkdtemp(join(tmpdir(), 'sessiongate-glewlwyd-'));
  const removeFolder = () => rm(folder, { recursive: true, force: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const run = promisify(execFile);
  let server: ServerProcess | undefined;
  try {
    await run('bash', [script, 'init', folder, String(port)]);
    server = await startServerProcess('glewlwyd', [`--config-file=${join(folder, 'glewlwyd.conf')}`], {
      readyUrl: `${url}/config`,
      timeoutMs: START_TIMEOUT_MS,
    });
    await run('bash', [script, 'configure', folder], {
      env: {
        PATH: process.env.PATH ?? '',
        GATEWAY_URL: options.gatewayUrl,
        CLIENT_ID: GLEWLWYD_CLIENT_ID,
        CLIENT_SECRET: GLEWLWYD_CLIENT_SECRET,
        USER_NAME: GLEWLWYD_USER,
        USER_PASSWORD: GLEWLWYD_PASSWORD,
        ACCESS_TOKEN_SECONDS: String(options.accessTokenSeconds ?? 3600),
        RESOURCES: (options.resources ?? ['https://todos.api.test']).join(' '),
      },
    });
  } catch (error) {
    const output = server?.output() ?? '';
    await server?.stop();
    await removeFolder();
    throw new Error(`Glewlwyd did not start: ${(error as Error).message}\n${output}`);
  }
  const running = server;
  return {
    url,
    issuer: `${url}/api/oidc`,
    folder,
    output: () => running.output(),
    async stop() {
      await running.stop();
      await removeFolder();
    },
  };
}

/**
 * Signs in on Glewlwyd's own login page (the browser is already there, sent by the gateway's
 * /bff/login), grants the scopes on its consent page the first time, and continues back to the
 * client: Glewlwyd always stops at its page after a password, even once consent was given.
 */
export async function signInAtGlewlwyd(page: Page, username = GLEWLWYD_USER, password = GLEWLWYD_PASSWORD): Promise<void> {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'OK', exact: true }).click();
  const grant = page.getByRole('button', { name: 'Grant access' });
  await page
    .getByRole('button', { name: /Grant access|Continue/ })
    .filter({ visible: true })
    .first()
    .waitFor();
  if (await grant.isVisible()) {
    for (const scope of await page.locator('input[type=checkbox]:not(:disabled)').all()) await scope.check();
    const granted = page.waitForResponse((response) => response.url().includes('/api/auth/grant/') && response.ok());
    await grant.click();
    await granted;
  }
  await page.getByRole('button', { name: 'Continue' }).click();
}
