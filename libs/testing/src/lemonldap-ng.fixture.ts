import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { freePort } from './free-port.js';
import { projectRoot } from './project-root.js';
import { type ServerProcess, startServerProcess } from './server-process.js';

// Perl loads the whole portal before it listens: a few seconds on a busy machine.
const START_TIMEOUT_MS = 30_000;

export const LEMONLDAP_CLIENT_ID = 'sessiongate';
export const LEMONLDAP_CLIENT_SECRET = 'interop-gateway-secret';
/** A user of the portal's Demo backend (its password is its login), "Doctor Who". */
export const LEMONLDAP_USER = 'dwho';

export interface LemonLdapOptions {
  /** The gateway's PUBLIC_URL: the relying party's redirect and post-logout URIs hang off it. */
  readonly gatewayUrl: string;
  /** Access-token lifetime at the provider, in seconds (default 3600). */
  readonly accessTokenSeconds?: number;
}

export interface LemonLdapFixture {
  /** http://127.0.0.1:<port>: the portal, which is also the issuer. */
  readonly url: string;
  readonly issuer: string;
  /** Everything it logged so far. */
  output(): string;
  /** SIGTERM, SIGKILL after a grace period, then its temporary folder is removed. */
  stop(): Promise<void>;
}

/**
 * A private LemonLDAP::NG portal (Debian's `lemonldap-ng`) on a free loopback port, served by
 * plackup and configured by scripts/interop/lemonldap-ng.sh: its OpenID Connect issuer on, the
 * gateway as a confidential relying party, the Demo user backend. Everything in a temporary folder.
 */
export async function startLemonLdap(options: LemonLdapOptions): Promise<LemonLdapFixture> {
  const folder = await mkdtemp(join(tmpdir(), 'sessiongate-lemonldap-'));
  const removeFolder = () => rm(folder, { recursive: true, force: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let server: ServerProcess;
  try {
    await promisify(execFile)('bash', [join(projectRoot(), 'scripts/interop/lemonldap-ng.sh'), 'init', folder, String(port)], {
      env: {
        PATH: process.env.PATH ?? '',
        GATEWAY_URL: options.gatewayUrl,
        CLIENT_ID: LEMONLDAP_CLIENT_ID,
        CLIENT_SECRET: LEMONLDAP_CLIENT_SECRET,
        ACCESS_TOKEN_SECONDS: String(options.accessTokenSeconds ?? 3600),
      },
    });
    server = await startServerProcess(
      'plackup',
      ['-s', 'HTTP::Server::PSGI', '--host', '127.0.0.1', '--port', String(port), join(folder, 'portal.psgi')],
      {
        env: { PATH: process.env.PATH ?? '', LLNG_DEFAULTCONFFILE: join(folder, 'lemonldap-ng.ini') },
        readyUrl: `${url}/.well-known/openid-configuration`,
        timeoutMs: START_TIMEOUT_MS,
      },
    );
  } catch (error) {
    await removeFolder();
    throw error;
  }
  return {
    url,
    issuer: url,
    output: () => server.output(),
    async stop() {
      await server.stop();
      await removeFolder();
    },
  };
}

/** Signs in on the portal's login form (the browser is already there, sent by the gateway's /bff/login). */
export async function signInAtLemonLdap(page: Page, username = LEMONLDAP_USER, password = username): Promise<void> {
  await page.locator('input[name=user]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.locator('button[type=submit]', { hasText: 'Connect' }).click();
}
