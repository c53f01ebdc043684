import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  type BrowserClient,
  GATEWAY_CLIENT_SECRET,
  gatewayClientBasicAuth,
  type GatewayStack,
  startGatewayStack,
} from '#sessiongate/testing';

// The break-glass CLI, built (`npm run build`) and spawned as an operator would, against the Redis
// of a real gateway: list and revoke sessions without an admin token.

const CLI = 'dist/apps/cli/src/main.js';
const CSRF = { 'x-csrf': '1' } as const;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let stack: GatewayStack;
/** What listing reads. */
let env: Record<string, string>;
/** What revoking reads: the gateway's own environment. */
let gatewayEnv: Readonly<Record<string, string>>;

function cli(args: readonly string[], environment: Readonly<Record<string, string>> = env): Promise<Run> {
  return new Promise((resolve) => {
    // Only what the CLI is documented to read, plus PATH.
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', ...environment }, timeout: 20_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function status(browser: BrowserClient): Promise<number> {
  return (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).status;
}

async function subOf(browser: BrowserClient): Promise<string> {
  return (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{ claims: { sub: string } }>().claims.sub;
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  stack = await startGatewayStack();
  env = { REDIS_URL: stack.redis.url, SESSION_ENCRYPTION_KEY: stack.config.session.encryptionKeys[0]!.key.toString('base64') };
  gatewayEnv = { ...stack.env };
});

/** A login whose refresh token the test keeps, to try it at the provider afterwards. */
async function loginKeepingRefreshToken(username: string): Promise<{ browser: BrowserClient; refreshToken: string }> {
  let refreshToken: string | undefined;
  stack.idp.onTokenResponse = (body) => void (refreshToken = body.refresh_token as string);
  try {
    return { browser: await stack.loginAs(username), refreshToken: refreshToken! };
  } finally {
    stack.idp.onTokenResponse = undefined;
  }
}

/** What the provider answers to a refresh-token grant with `refreshToken`, as the gateway's client. */
async function refreshAtProvider(refreshToken: string): Promise<{ status: number; error?: string }> {
  const response = await fetch(`${stack.idp.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: gatewayClientBasicAuth(),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  return { status: response.status, error: ((await response.json()) as { error?: string }).error };
}
afterAll(async () => {
  await stack.stop();
});

test('lists sessions as a table or as JSON, page by page, never with a secret', async () => {
  const alice = await stack.loginAs('alice');
  await stack.loginAs('alice');
  await stack.loginAs('bob');
  const aliceSub = await subOf(alice);

  const table = await cli(['sessions', 'list']);
  expect(table.code).toBe(0);
  const lines = table.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^ID\s+SUB\s+CREATED\s+LAST SEEN\s+EXPIRES\s+IP\s+USER AGENT$/);
  expect(lines).toHaveLength(4);

  const json = await cli(['sessions', 'list', '--sub', aliceSub, '--json']);
  expect(json.code).toBe(0);
  const listed = JSON.parse(json.stdout) as {
    sessions: { id: string; sub: string; hasRefreshToken: boolean }[];
    nextCursor: string | null;
  };
  expect(listed.sessions.map((session) => session.sub)).toEqual([aliceSub, aliceSub]);
  expect(listed.nextCursor).toBeNull();
  expect(listed.sessions[0]).toMatchObject({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), hasRefreshToken: true });
  expect(json.stdout + table.stdout).not.toContain(alice.cookies(stack.url)[stack.config.session.cookieName]!);
  expect(json.stdout + table.stdout).not.toMatch(/eyJ/);

  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { sessions: { id: string }[]; nextCursor: string | null } = JSON.parse(
      (await cli(['sessions', 'list', '--limit', '2', '--json', ...(cursor ? ['--cursor', cursor] : [])])).stdout,
    );
    ids.push(...page.sessions.map((session) => session.id));
    cursor = page.nextCursor;
  } while (cursor);
  expect(new Set(ids).size).toBe(3);
});

test("reads a rotated gateway's sessions with its key list and SESSION_INDEX_KEY", async () => {
  await stack.redis.client.flushall();
  const aliceSub = await subOf(await stack.loginAs('alice'));
  const rotated = {
    ...env,
    SESSION_ENCRYPTION_KEY: `k2:${randomBytes(32).toString('base64')},${env.SESSION_ENCRYPTION_KEY}`,
    SESSION_INDEX_KEY: env.SESSION_ENCRYPTION_KEY!,
  };
  const listed = await cli(['sessions', 'list', '--sub', aliceSub, '--json'], rotated);
  expect(listed.code).toBe(0);
  expect((JSON.parse(listed.stdout) as { sessions: { sub: string }[] }).sessions.map((session) => session.sub)).toEqual([aliceSub]);
  const { SESSION_INDEX_KEY: _indexKey, ...withoutIndexKey } = rotated;
  const refused = await cli(['sessions', 'list'], withoutIndexKey);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('SESSION_INDEX_KEY: is required when SESSION_ENCRYPTION_KEY lists several keys');
});

test('revokes one session by public id, and every session of a user, at once, with an audit event', async () => {
  await stack.redis.client.flushall();
  const laptop = await stack.loginAs('alice');
  const phone = await stack.loginAs('alice');
  const bob = await stack.loginAs('bob');
  const aliceSub = await subOf(laptop);
  const { logoutUrl } = (await laptop.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{ logoutUrl: string }>();
  const laptopId = new URL(logoutUrl, stack.url).searchParams.get('sid')!;

  const one = await cli(['sessions', 'revoke', laptopId], gatewayEnv);
  expect(one).toMatchObject({ code: 0, stdout: `Revoked 1 session(s): ${laptopId}\n` });
  expect(await status(laptop)).toBe(401);
  expect(await status(phone)).toBe(200);

  const unknown = await cli(['sessions', 'revoke', laptopId], gatewayEnv);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain(`No session with public id ${laptopId}`);

  const all = await cli(['sessions', 'revoke', '--sub', aliceSub, '--json'], gatewayEnv);
  expect(all.code).toBe(0);
  expect((JSON.parse(all.stdout) as { revoked: string[] }).revoked).toHaveLength(1);
  expect(await status(phone)).toBe(401);
  expect(await status(bob)).toBe(200);

  const audit = (await stack.redis.client.xrange('sg:audit', '-', '+')).map(([, fields]) => fields);
  expect(audit).toHaveLength(2);
  expect(audit[0]).toEqual(
    expect.arrayContaining(['actor', expect.stringMatching(/^cli:/), 'action', 'revoke_session', 'target', `session:${laptopId}`]),
  );
  expect(audit[1]).toEqual(expect.arrayContaining(['action', 'revoke_user_sessions', 'target', `user:${aliceSub}`]));
  // The audit line is on stderr, as JSON, away from the answer.
  expect(one.stderr).toContain('"audit"');
});

test('revokes the refresh tokens at the provider too (RFC 7009), as the admin API does', async () => {
  const alice = await loginKeepingRefreshToken('alice');
  const bob = await loginKeepingRefreshToken('bob');
  const aliceSub = await subOf(alice.browser);

  const run = await cli(['sessions', 'revoke', '--sub', aliceSub, '--json'], gatewayEnv);
  expect(run.code).toBe(0);
  expect((JSON.parse(run.stdout) as { revoked: string[] }).revoked).toHaveLength(1);
  expect(run.stderr).not.toContain('Warning');
  expect(await refreshAtProvider(alice.refreshToken)).toEqual({ status: 400, error: 'invalid_grant' });
  // Bob's, presented the same way, is still good: what killed alice's is the revocation.
  expect((await refreshAtProvider(bob.refreshToken)).status).toBe(200);
  for (const secret of [alice.refreshToken, GATEWAY_CLIENT_SECRET]) expect(run.stdout + run.stderr).not.toContain(secret);
});

test('still ends the sessions when the provider cannot be reached, and says that their refresh tokens were not revoked there', async () => {
  const alice = await stack.loginAs('alice');
  const aliceSub = await subOf(alice);
  const run = await cli(['sessions', 'revoke', '--sub', aliceSub], { ...gatewayEnv, OIDC_ISSUER: 'http://127.0.0.1:1' });
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^Revoked \d+ session\(s\)/);
  expect(run.stderr).toMatch(/Warning: the identity provider could not be discovered: refresh tokens will not be revoked there/);
  expect(await status(alice)).toBe(401);
});

test('explains itself, and exits non-zero with a clear message on bad usage or settings', async () => {
  const help = await cli(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('REDIS_URL');
  expect(help.stdout).toContain('SESSION_ENCRYPTION_KEY');

  for (const args of [
    ['sessions'],
    ['sessions', 'drop'],
    ['sessions', 'revoke'],
    ['sessions', 'revoke', 'x', '--sub', 'y'],
    ['sessions', 'list', '--limit', '0'],
    ['sessions', 'list', '--bogus'],
    ['users'],
  ]) {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage:');
  }

  const revokeWithStoreOnly = await cli(['sessions', 'revoke', '--sub', 'alice']);
  expect(revokeWithStoreOnly.code).toBe(2);
  for (const name of ['PUBLIC_URL', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'])
    expect(revokeWithStoreOnly.stderr).toContain(`${name}: is required`);

  const unset = await cli(['sessions', 'list'], {});
  expect(unset.code).toBe(2);
  expect(unset.stderr).toMatch(/REDIS_URL: is required[\s\S]*SESSION_ENCRYPTION_KEY: is required/);

  const badKey = await cli(['sessions', 'list'], { ...env, SESSION_ENCRYPTION_KEY: 'short' });
  expect(badKey.code).toBe(2);
  expect(badKey.stderr).toContain('SESSION_ENCRYPTION_KEY: key 1 must');

  const badCursor = await cli(['sessions', 'list', '--cursor', 'nope']);
  expect(badCursor.code).toBe(2);
  expect(badCursor.stderr).toContain('cursor');
});

test('says so when Redis is unreachable, without printing its password', async () => {
  const run = await cli(['sessions', 'list'], { ...env, REDIS_URL: 'redis://:hunter2-secret@127.0.0.1:1' });
  expect(run.code).toBe(1);
  expect(run.stderr).toContain('Cannot reach Redis');
  expect(run.stderr).not.toContain('hunter2');
});

test('warns when sessions cannot be decrypted with the key it was given', async () => {
  await stack.loginAs('alice');
  const run = await cli(['sessions', 'list'], { ...env, SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
  expect(run.code).toBe(0);
  expect(run.stderr).toMatch(/could not be decrypted: is SESSION_ENCRYPTION_KEY the gateway's\?/);
});
